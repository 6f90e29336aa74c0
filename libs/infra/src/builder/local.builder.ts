import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { cp, lstat, mkdir, readdir, readFile, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { extract } from 'tar';
import { markUsed } from '../disk/mark-used.js';
import { SANDBOX_PATH, SANDBOX_PYTHON, type Sandbox, type SandboxedProcess } from '../sandbox/sandbox.port.js';
import { BuildFailure, buildTimeoutReason, type Builder, type BuildRequest, type BuildResult } from './builder.port.js';
import { checkNpmDependencies, lockNpmrcFiles } from './npm-config.policy.js';
import { checkRequirements } from './pip-requirements.policy.js';

/** How the local builder treats a handler's dependencies (BUILD_TIMEOUT, PIP_SOURCE_BUILDS). */
export type LocalBuildPolicy = Readonly<{ timeoutMs: number; pipSourceBuilds: boolean }>;

/** A line longer than this is passed on in pieces: a build printing no newline must not grow a buffer. */
const MAX_LINE_CHARS = 16 * 1024;
/** After the tool exits, how long its output pipes may stay open (held by something it left behind). */
const PIPE_GRACE_MS = 2000;

/** What one build step (an npm or pip install) may use: one core, every core for its first 5 s (most installs). */
const BUILD_LIMITS = { memoryBytes: 1024 * 2 ** 20, cpus: 1, startup: { cpus: availableParallelism(), ms: 5000 }, pids: 512, fileSizeBytes: 512 * 2 ** 20 };

/**
 * Embedded mode's builder: the build context becomes a content-addressed image folder under `DATA_DIR/images`,
 * which the embedded gateway runs. Equal contexts share one folder. (Dependency installs arrive with the
 * embedded gateway's templates.)
 */
export class LocalBuilder implements Builder {
  readonly kind = 'local';

  private readonly policy: LocalBuildPolicy;

  constructor(
    private readonly imagesDir: string,
    private readonly npmCacheDir: string,
    policy: Partial<LocalBuildPolicy> = {},
    /** Where npm and pip run; null: bare child processes (only for trusted owners, see the push policy). */
    private readonly sandbox: Sandbox | null = null,
  ) {
    this.policy = { timeoutMs: 600_000, pipSourceBuilds: false, ...policy };
  }

  /**
   * `pip install --target python_packages -r <requirements>`, wheels only unless the operator allows source
   * builds (an sdist's or a source tree's build backend is a program of the handler's choosing). pip's own
   * settings (index, find-links, proxy, certificates) come from the operator's PIP_* environment, never from
   * a config file of the handler.
   */
  private async pipInstall(context: string, requirements: string, log: (line: string) => void, signal: AbortSignal): Promise<void> {
    const where = relative(context, requirements);
    await checkRequirements(requirements, context, this.policy.pipSourceBuilds);
    const wheelsOnly = this.policy.pipSourceBuilds ? [] : ['--only-binary=:all:'];
    log(`pip install --target python_packages ${wheelsOnly.join(' ')}${wheelsOnly.length ? ' ' : ''}-r ${where}`);
    const args = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', ...wheelsOnly, '--target', join(context, 'python_packages'), '--cache-dir', `${this.npmCacheDir}-pip`, '-r', requirements];
    // HOME is the context, so pip's user config would be the handler's: PIP_CONFIG_FILE=/dev/null turns it off.
    const env = { ...toolEnvironment(/^PIP_(INDEX_URL|EXTRA_INDEX_URL|FIND_LINKS|NO_INDEX|TRUSTED_HOST|CERT|CLIENT_CERT|PROXY|TIMEOUT|DEFAULT_TIMEOUT|RETRIES)$/i), HOME: context, PIP_CONFIG_FILE: '/dev/null' };
    const hint = this.policy.pipSourceBuilds ? '' : ' (wheels only: PIP_SOURCE_BUILDS=true allows source builds)';
    await this.run('python3', args, context, env, log, signal, `pip install failed${hint}`);
  }

  /**
   * Runs one tool in its own process group, so that a timeout or a shutdown ends it and everything it started;
   * its output goes to `log` line by line and is never collected here.
   */
  private async run(command: string, args: string[], cwd: string, env: Record<string, string>, log: (line: string) => void, signal: AbortSignal, failure: string): Promise<void> {
    signal.throwIfAborted();
    let lastError: string | null = null;
    const code = await new Promise<number>((resolve, reject) => {
      // Bare: the tool's own process group; sandboxed: the sandbox's pid namespace and cgroup hold the tree.
      const child: SandboxedProcess = this.sandbox
        ? this.spawnSandboxed(command, args, cwd, env)
        : spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const killTree = () => {
        if (this.sandbox) return void child.kill('SIGKILL');
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // the group is gone already
        }
      };
      let grace: NodeJS.Timeout | undefined;
      const finish = (settle: () => void) => {
        signal.removeEventListener('abort', abort);
        clearTimeout(grace);
        child.stdout.destroy();
        child.stderr.destroy();
        settle();
      };
      const abort = () => {
        killTree();
        finish(() => reject(signal.reason));
      };
      signal.addEventListener('abort', abort, { once: true });
      const lines = (line: string) => {
        if (/^\s*(npm (ERR!|error)|ERROR:|error:)/.test(line) && !/complete log of this run|npm (ERR!|error) code /.test(line)) lastError = line.trim().slice(0, 300);
        log(line);
      };
      const out = lineSplitter(lines);
      const err = lineSplitter(lines);
      child.stdout.on('data', out.write);
      child.stderr.on('data', err.write);
      child.on('error', (error) => finish(() => reject(error)));
      // Whatever the tool left running in its group goes with it; something that escaped the group and holds
      // the pipes open gets a short grace period, then the pipes are closed on it.
      child.on('exit', (exit) => {
        killTree();
        grace = setTimeout(() => finish(() => resolve(exit ?? 1)), PIPE_GRACE_MS);
      });
      child.on('close', (exit) => {
        out.end();
        err.end();
        finish(() => resolve(exit ?? 1));
      });
    });
    if (code !== 0) throw new BuildFailure(`${failure}: ${lastError ?? `exit ${code}`}`.slice(0, 200));
  }

  /**
   * A build step in the sandbox: the system read-only, writable only this build's staging folder (lent to the build
   * uid for the step) and the package caches, each at its own path so the arguments stay valid; the network is open.
   */
  private spawnSandboxed(command: string, args: string[], cwd: string, env: Record<string, string>): SandboxedProcess {
    const staging = join(this.imagesDir, relative(this.imagesDir, cwd).split(sep)[0]!);
    if (!staging.endsWith('.tmp') || relative(staging, cwd).startsWith('..')) throw new Error(`sandboxed build step outside a staging folder: ${cwd}`);
    const caches = [this.npmCacheDir, `${this.npmCacheDir}-pip`];
    for (const cache of caches) mkdirSync(cache, { recursive: true, mode: 0o700 });
    return this.sandbox!.spawn({
      program: command === 'python3' ? SANDBOX_PYTHON : `/usr/bin/${command}`,
      args,
      cwd,
      env: { ...env, PATH: SANDBOX_PATH },
      mounts: [
        { source: staging, target: staging, writable: true, owner: 'lend' },
        ...caches.map((cache) => ({ source: cache, target: cache, writable: true, owner: 'give' as const })),
        ...operatorFolders(env).map((folder) => ({ source: folder, target: folder })),
      ],
      limits: BUILD_LIMITS,
      role: 'build',
    });
  }

  /**
   * `npm install --omit=dev` where a package.json declares dependencies; npm's own configuration (registry, proxy)
   * comes from the environment. Like the Docker layer cache of the official templates (package.json copied and
   * installed before the handler), an install whose inputs were installed before is reused: the key covers the
   * manifests, lock files, `.npmrc`, local (`file:`) dependencies' files, npm's settings and the Node version.
   */
  private async npmInstall(dir: string, contextRoot: string, log: (line: string) => void, signal: AbortSignal): Promise<void> {
    const where = dir.split('/context/')[1] ?? '.';
    checkNpmDependencies(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>, dir, contextRoot);
    const key = await npmInstallKey(dir);
    const saved = join(this.imagesDir, 'npm-installs', key);
    if (existsSync(join(saved, 'node_modules'))) {
      await markUsed(saved);
      await cp(join(saved, 'node_modules'), join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true });
      if (existsSync(join(saved, 'package-lock.json')) && !existsSync(join(dir, 'package-lock.json'))) await cp(join(saved, 'package-lock.json'), join(dir, 'package-lock.json'));
      log(`npm install --omit=dev in ${where}: the same dependencies were installed before (${key.slice(0, 12)}), node_modules reused`);
      return;
    }
    log(`npm install --omit=dev in ${where}`);
    // A handler's dependencies are untrusted: no lifecycle scripts, none of the server's secrets in reach, and
    // every setting that names a program or a path set here (a handler's .npmrc keeps only registries and
    // their credentials, see lockNpmrcFiles). git is refused: a git dependency the manifest check missed (a
    // transitive one, a lock file's) fails to fetch instead of running git.
    const args = [
      'install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--no-update-notifier', '--cache', this.npmCacheDir,
      '--userconfig', '/dev/null', `--git=${REFUSED_GIT}`, '--script-shell=/bin/sh', '--shell=/bin/sh', '--node-options=', '--editor=/bin/false', '--browser=false',
    ];
    let neededGit = false;
    const watch = (line: string) => {
      if (line.includes(`command ${REFUSED_GIT} `)) neededGit = true;
      log(line);
    };
    await this.run('npm', args, dir, { ...npmEnvironment(), HOME: dir, npm_config_loglevel: 'warn' }, watch, signal, 'npm install failed').catch((error: unknown) => {
      throw neededGit ? new BuildFailure(`npm install failed: a dependency in ${where} needs git; builds refuse git dependencies`) : error;
    });
    if (!existsSync(join(dir, 'node_modules'))) return;
    const staging = `${saved}.${randomUUID()}.tmp`;
    try {
      await cp(join(dir, 'node_modules'), join(staging, 'node_modules'), { recursive: true, verbatimSymlinks: true });
      if (existsSync(join(dir, 'package-lock.json'))) await cp(join(dir, 'package-lock.json'), join(staging, 'package-lock.json'));
      await rename(staging, saved).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Whether the image's folder is still on disk (disk eviction may have removed it); a held one counts as just used. */
  async holds(image: string): Promise<boolean> {
    const folder = (await readFile(imageIndexPath(this.imagesDir, image), 'utf8').catch(() => '')).trim();
    if (folder === '' || !existsSync(folder)) return false;
    await markUsed(folder);
    return true;
  }

  /** The build, killed (its whole process tree) and failed when it runs past BUILD_TIMEOUT. */
  async build(request: BuildRequest, log: (line: string) => void, signal: AbortSignal): Promise<BuildResult> {
    const timeout = AbortSignal.timeout(this.policy.timeoutMs);
    try {
      return await this.buildWithin(request, log, AbortSignal.any([signal, timeout]));
    } catch (error) {
      if (timeout.aborted && !signal.aborted) throw new BuildFailure(buildTimeoutReason(this.policy.timeoutMs));
      throw error;
    }
  }

  private async buildWithin(request: BuildRequest, log: (line: string) => void, signal: AbortSignal): Promise<BuildResult> {
    if (request.lang === 'dockerfile') throw new BuildFailure('lang dockerfile needs BuildKit: set BUILDKIT_ADDR to build it');
    const digest = request.contextDigest;
    const folder = join(this.imagesDir, digest.replace(':', '-'));
    log(`local builder: ${request.image}`);
    if (existsSync(folder)) {
      log(`context ${digest.slice(0, 19)} already materialised`);
      await markUsed(folder);
    } else {
      const staging = `${folder}.${randomUUID()}.tmp`;
      await mkdir(staging, { recursive: true });
      try {
        await pipeline(Readable.from(request.archive), extract({ cwd: staging, strict: true, preservePaths: false }), { signal });
        await lockNpmrcFiles(join(staging, 'context'), log);
        for (const dir of await packageFolders(join(staging, 'context'))) await this.npmInstall(dir, join(staging, 'context'), log, signal);
        for (const file of await requirementFiles(join(staging, 'context'))) await this.pipInstall(join(staging, 'context'), file, log, signal);
        await writeFile(join(staging, 'image.json'), `${JSON.stringify({ image: request.image, contextDigest: digest, buildArgs: request.buildArgs })}\n`);
        await mkdir(this.imagesDir, { recursive: true });
        await rename(staging, folder).catch(async (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
        });
        log(`context ${digest.slice(0, 19)} materialised in ${folder}`);
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    }
    // The embedded gateway finds a deployment's folder by its image name.
    await mkdir(join(this.imagesDir, 'by-name'), { recursive: true });
    await writeFile(imageIndexPath(this.imagesDir, request.image), folder);
    return { image: request.image, digest: `sha256:${createHash('sha256').update(folder).digest('hex')}` };
  }
}

/** Folders (the context root and one level down, e.g. `function/`) whose package.json declares dependencies. */
async function packageFolders(root: string): Promise<string[]> {
  const candidates = [root, ...(await readdir(root, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => join(root, entry.name))];
  const found: string[] = [];
  for (const dir of candidates) {
    const manifest = await readFile(join(dir, 'package.json'), 'utf8').catch(() => null);
    if (manifest === null) continue;
    try {
      const { dependencies } = JSON.parse(manifest) as { dependencies?: Record<string, string> };
      if (dependencies && Object.keys(dependencies).length > 0) found.push(dir);
    } catch {
      throw new BuildFailure(`${dir.split('/context/')[1] ?? 'package.json'}: package.json is not valid JSON`);
    }
  }
  return found;
}

/** What an npm install in `dir` depends on (see `npmInstall`), as a sha256. */
async function npmInstallKey(dir: string): Promise<string> {
  const hash = createHash('sha256').update(`npm-install 1\0${process.version}\0`);
  for (const [name, value] of Object.entries(npmEnvironment()).filter(([name]) => /^npm_config_/i.test(name)).sort()) hash.update(`env ${name}=${value}\0`);
  for (const file of ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', '.npmrc']) {
    const content = await readFile(join(dir, file)).catch(() => null);
    hash.update(`${file} ${content === null ? '-' : content.length}\0`);
    if (content) hash.update(content);
  }
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const specs = ['dependencies', 'optionalDependencies'].flatMap((field) => Object.values(manifest[field] ?? {}));
  for (const spec of specs.filter((value) => typeof value === 'string' && /^(file:|link:|\.{0,2}\/)/.test(value)).sort()) {
    hash.update(`local ${spec}\0`);
    await hashTree(resolve(dir, spec.replace(/^(file|link):/, '')), hash);
  }
  return hash.digest('hex');
}

/** Paths, modes, symlink targets and contents under `path` (a file or a folder), node_modules left out. */
async function hashTree(path: string, hash: ReturnType<typeof createHash>, root = path): Promise<void> {
  const info = await lstat(path).catch(() => null);
  const name = relative(root, path);
  if (!info) return void hash.update(`missing ${name}\0`);
  if (info.isSymbolicLink()) return void hash.update(`link ${name} ${await readlink(path)}\0`);
  if (info.isDirectory()) {
    hash.update(`dir ${name}\0`);
    for (const entry of (await readdir(path)).filter((entry) => entry !== 'node_modules').sort()) await hashTree(join(path, entry), hash, root);
    return;
  }
  const content = await readFile(path);
  hash.update(`file ${name} ${info.mode & 0o777} ${content.length}\0`);
  hash.update(content);
}

/** PATH, proxies and certificates, and the tool's own settings matching `own`: nothing else of the server's environment. */
function toolEnvironment(own: RegExp): Record<string, string> {
  const kept = Object.entries(process.env).filter(([name]) => name === 'PATH' || own.test(name) || /^(HTTPS?_PROXY|NO_PROXY|NODE_EXTRA_CA_CERTS)$/i.test(name));
  return Object.fromEntries(kept) as Record<string, string>;
}

/**
 * The operator's npm settings that say where packages come from (registries and their credentials, proxies,
 * certificates). The rest — including what `npm start` puts in the environment (`npm_config_prefix`,
 * `npm_config_node_options`, `npm_config_userconfig`, …) — stays out.
 */
const npmEnvironment = () => toolEnvironment(/^npm_config_(registry|@[^:]+:registry|\/\/.+|https?[-_]proxy|proxy|no[-_]?proxy|ca|cafile|strict[-_]ssl)$/i);

/** What npm runs for git: nothing. A git dependency fails to fetch. */
const REFUSED_GIT = '/bin/false';

/** Passes a stream's text on line by line, cutting lines longer than MAX_LINE_CHARS; holds at most one line. */
function lineSplitter(emit: (line: string) => void): { write: (chunk: Buffer) => void; end: () => void } {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const take = (text: string) => {
    const pieces = (partial + text).split('\n');
    partial = pieces.pop()!;
    for (const line of pieces) if (line.trim() !== '') emit(line.replace(/\r$/, ''));
    while (partial.length > MAX_LINE_CHARS) {
      emit(partial.slice(0, MAX_LINE_CHARS));
      partial = partial.slice(MAX_LINE_CHARS);
    }
  };
  return {
    write: (chunk) => take(decoder.write(chunk)),
    end: () => {
      take(decoder.end());
      if (partial.trim() !== '') emit(partial);
      partial = '';
    },
  };
}

/**
 * Local folders the operator's pip settings name (`PIP_FIND_LINKS`, `file:` indexes): visible read-only in the build
 * sandbox, at their own paths. They must be readable by the build uid.
 */
function operatorFolders(env: Record<string, string>): string[] {
  const named = ['PIP_FIND_LINKS', 'PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL'].flatMap((name) => (env[name] ?? '').split(/\s+/)).filter(Boolean);
  const paths = named.map((value) => (value.startsWith('file://') ? new URL(value).pathname : value)).filter((path) => isAbsolute(path));
  return [...new Set(paths)].filter((path) => existsSync(path) && statSync(path).isDirectory());
}

/** Where the local builder records which folder holds an image name. */
export const imageIndexPath = (imagesDir: string, image: string) => join(imagesDir, 'by-name', createHash('sha256').update(image).digest('hex'));

/** Non-empty requirements.txt files of the context root and its handler folder. */
async function requirementFiles(root: string): Promise<string[]> {
  const candidates = [join(root, 'requirements.txt'), ...(await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => join(root, e.name, 'requirements.txt'))];
  const found: string[] = [];
  for (const file of candidates) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#'))) found.push(file);
  }
  return found;
}
