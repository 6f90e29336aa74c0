import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { cp, lstat, mkdir, readdir, readFile, readlink, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { extract } from 'tar';
import { markUsed } from '../disk/mark-used.js';
import { MAX_LINE_BYTES } from './build-log.js';
import { SANDBOX_PATH, SANDBOX_PYTHON, type Sandbox, type SandboxedProcess } from '../sandbox/sandbox.port.js';
import { BuildFailure, buildTimeoutReason, type Builder, type BuildRequest, type BuildResult } from './builder.port.js';
import { diskUsage, readContextFile } from './context-file.reader.js';
import { checkNpmDependencies, lockNpmrcFiles } from './npm-config.policy.js';
import { checkRequirements } from './pip-requirements.policy.js';
import { isToolErrorLine, toolErrorLine } from './tool-error.js';

/** How the local builder treats a handler's dependencies (BUILD_TIMEOUT, PIP_SOURCE_BUILDS, MAX_BUILD_MB). */
export type LocalBuildPolicy = Readonly<{ timeoutMs: number; pipSourceBuilds: boolean; maxBuildBytes: number }>;

/** One build's folders: root's staging folder, and its `context`, the only part a build step may write. */
type Staging = Readonly<{ root: string; context: string; owner: string }>;

/** How often a running step's disk use is measured against MAX_BUILD_MB. */
const QUOTA_CHECK_MS = 1000;
/** An owner as a cache folder's name: a GitHub id or a lower-cased login. */
const OWNER = /^[a-z0-9][a-z0-9-]{0,99}$/;
/** What the npm and pip caches held when every build shared them: read by nobody again, removed. */
const SHARED_CACHE_ENTRIES = {
  npm: ['_cacache', '_logs', '_npx', '_update-notifier-last-checked'],
  pip: ['http', 'http-v2', 'wheels', 'selfcheck'],
};

/** Error lines of one build step kept for its failure reason: npm's and pip's meaningful one comes early. */
const MAX_ERROR_LINES = 200;

/** After the tool exits, how long its output pipes may stay open (held by something it left behind). */
const PIPE_GRACE_MS = 2000;

/** What one build step (an npm or pip install) may use: one core, every core for its first 5 s (most installs). */
const BUILD_LIMITS = {
  memoryBytes: 1024 * 2 ** 20,
  cpus: 1,
  startup: { cpus: availableParallelism(), ms: 5000 },
  pids: 512,
  fileSizeBytes: 512 * 2 ** 20,
};

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
    this.policy = { timeoutMs: 600_000, pipSourceBuilds: false, maxBuildBytes: 1024 * 2 ** 20, ...policy };
    // One build could poison what the next owner's build installs: those shared caches go.
    for (const entry of SHARED_CACHE_ENTRIES.npm) rmSync(join(npmCacheDir, entry), { recursive: true, force: true });
    for (const entry of SHARED_CACHE_ENTRIES.pip) rmSync(join(`${npmCacheDir}-pip`, entry), { recursive: true, force: true });
  }

  /**
   * HOME of npm and pip: never in the context, where a handler's `.node_modules` (Node's global folders under
   * HOME) or dotfiles would be read by the tool itself. The sandbox's private /tmp; bare, the staging folder.
   */
  private toolHome(staging: Staging): string {
    return this.sandbox ? '/tmp' : staging.root;
  }

  /** The owner's own package caches: every build runs as the one build uid, so a cache shared across owners is writable by all. */
  private caches(owner: string): { npm: string; pip: string } {
    return { npm: join(this.npmCacheDir, owner), pip: join(`${this.npmCacheDir}-pip`, owner) };
  }

  /**
   * `pip install --target python_packages -r <requirements>`, wheels only unless the operator allows source
   * builds (an sdist's or a source tree's build backend is a program of the handler's choosing). pip's own
   * settings (index, find-links, proxy, certificates) come from the operator's PIP_* environment, never from
   * a config file of the handler.
   */
  private async pipInstall(staging: Staging, requirements: string, log: (line: string) => void, signal: AbortSignal): Promise<void> {
    const { context } = staging;
    const where = relative(context, requirements);
    await checkRequirements(requirements, context, this.policy.pipSourceBuilds);
    const wheelsOnly = this.policy.pipSourceBuilds ? [] : ['--only-binary=:all:'];
    log(`pip install --target python_packages ${wheelsOnly.join(' ')}${wheelsOnly.length ? ' ' : ''}-r ${where}`);
    // -I (isolated: -E -s -P): neither the working folder nor PYTHON* settings nor a user site reach sys.path, so no
    // `pip` of the handler's replaces pip. The working folder stays the context: pip resolves a requirement's
    // relative path (`./function/pkg`) against it.
    const args = [
      '-I',
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--no-input',
      ...wheelsOnly,
      '--target',
      join(context, 'python_packages'),
      '--cache-dir',
      this.caches(staging.owner).pip,
      '-r',
      requirements,
    ];
    // No config file of pip's is read (PIP_CONFIG_FILE=/dev/null), and HOME is outside the context.
    const env = {
      ...toolEnvironment(
        /^PIP_(INDEX_URL|EXTRA_INDEX_URL|FIND_LINKS|NO_INDEX|TRUSTED_HOST|CERT|CLIENT_CERT|PROXY|TIMEOUT|DEFAULT_TIMEOUT|RETRIES)$/i,
      ),
      HOME: this.toolHome(staging),
      PIP_CONFIG_FILE: '/dev/null',
    };
    const hint = this.policy.pipSourceBuilds ? '' : ' (wheels only: PIP_SOURCE_BUILDS=true allows source builds)';
    await this.run(SANDBOX_PYTHON, args, staging, context, env, log, signal, `pip install failed${hint}`);
  }

  /**
   * Runs one tool in its own process group, so that a timeout or a shutdown ends it and everything it started;
   * its output goes to `log` line by line and is never collected here.
   */
  private async run(
    command: string,
    args: string[],
    staging: Staging,
    cwd: string,
    env: Record<string, string>,
    log: (line: string) => void,
    outer: AbortSignal,
    failure: string,
  ): Promise<void> {
    outer.throwIfAborted();
    const quota = this.watchDiskUse(staging.context);
    const signal = AbortSignal.any([outer, quota.signal]);
    // The tool's error lines (the first ones, where npm and pip say what went wrong, and the last): see toolErrorLine.
    const errorLines: string[] = [];
    let lastError: string | null = null;
    const code = await new Promise<number>((resolve, reject) => {
      // Bare: the tool's own process group; sandboxed: the sandbox's pid namespace and cgroup hold the tree.
      const child: SandboxedProcess = this.sandbox
        ? this.spawnSandboxed(command, args, staging, cwd, env)
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
      let aborted: { reason: unknown } | null = null;
      const finish = (exit: number | null) => {
        signal.removeEventListener('abort', abort);
        clearTimeout(grace);
        child.stdout.destroy();
        child.stderr.destroy();
        if (aborted) reject(aborted.reason);
        else resolve(exit ?? 1);
      };
      // Settled only once the tree is gone (or the grace is over): the staging folder is removed next, and a step
      // still writing into it would make that removal fail.
      const abort = () => {
        aborted = { reason: signal.reason };
        killTree();
        grace = setTimeout(() => finish(null), PIPE_GRACE_MS);
      };
      signal.addEventListener('abort', abort, { once: true });
      const lines = (line: string) => {
        if (isToolErrorLine(line)) {
          if (errorLines.length < MAX_ERROR_LINES) errorLines.push(line.slice(0, 1000));
          else lastError = line.slice(0, 1000);
        }
        log(line);
      };
      const out = lineSplitter(lines);
      const err = lineSplitter(lines);
      child.stdout.on('data', out.write);
      child.stderr.on('data', err.write);
      child.on('error', (error) => {
        aborted ??= { reason: error };
        finish(null);
      });
      // Whatever the tool left running in its group goes with it; something that escaped the group and holds
      // the pipes open gets a short grace period, then the pipes are closed on it.
      child.on('exit', (exit) => {
        killTree();
        clearTimeout(grace);
        grace = setTimeout(() => finish(exit), PIPE_GRACE_MS);
      });
      child.on('close', (exit) => {
        out.end();
        err.end();
        finish(exit);
      });
    }).finally(() => quota.stop());
    // What the step left behind: the context still a real folder in the staging folder, within the quota.
    await checkContext(staging);
    await this.checkDiskUse(staging.context);
    if (code !== 0) {
      const meaningful = toolErrorLine(lastError === null ? errorLines : [...errorLines, lastError]);
      throw new BuildFailure(`${failure}: ${meaningful ?? `exit ${code}`}`.slice(0, 400));
    }
  }

  /** Measures the context every QUOTA_CHECK_MS while a step runs; its signal aborts (and so kills the step) past MAX_BUILD_MB. */
  private watchDiskUse(context: string): { signal: AbortSignal; stop: () => void } {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const measure = async () => {
      await this.checkDiskUse(context).catch((error: unknown) => controller.abort(error));
      if (!stopped && !controller.signal.aborted) timer = setTimeout(() => void measure(), QUOTA_CHECK_MS);
    };
    timer = setTimeout(() => void measure(), QUOTA_CHECK_MS);
    return {
      signal: controller.signal,
      stop: () => {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  private async checkDiskUse(context: string): Promise<void> {
    const used = await diskUsage(context);
    if (used > this.policy.maxBuildBytes)
      throw new BuildFailure(`build exceeded MAX_BUILD_MB: it wrote more than ${Math.round(this.policy.maxBuildBytes / 2 ** 20)} MB`);
  }

  /**
   * A build step in the sandbox: the system read-only, writable only this build's `context` (lent to the build uid
   * for the step, never the staging folder root writes in) and the owner's package caches, each at its own path so
   * the arguments stay valid; the network is open.
   */
  private spawnSandboxed(program: string, args: string[], staging: Staging, cwd: string, env: Record<string, string>): SandboxedProcess {
    if (relative(staging.root, cwd).startsWith('..')) throw new Error(`sandboxed build step outside its staging folder: ${cwd}`);
    const { npm, pip } = this.caches(staging.owner);
    const caches = [npm, pip];
    for (const cache of caches) mkdirSync(cache, { recursive: true, mode: 0o700 });
    return this.sandbox!.spawn({
      program,
      args,
      cwd,
      env: { ...env, PATH: SANDBOX_PATH },
      mounts: [
        { source: staging.context, target: staging.context, writable: true, owner: 'lend' },
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
  private async npmInstall(dir: string, staging: Staging, log: (line: string) => void, signal: AbortSignal): Promise<void> {
    const where = dir.split('/context/')[1] ?? '.';
    const manifest = await readContextFile(join(dir, 'package.json'));
    if (!manifest) throw new BuildFailure(`${where}/package.json is not a regular file`);
    checkNpmDependencies(parseManifest(manifest, where), dir, staging.context);
    // Dependencies come from package.json alone: a node_modules the handler ships is never installed, nor saved as an install.
    if (await lstat(join(dir, 'node_modules')).catch(() => null)) {
      await rm(join(dir, 'node_modules'), { recursive: true, force: true });
      log(`${where}/node_modules left out: dependencies are installed from package.json`);
    }
    const key = await npmInstallKey(dir, staging.owner);
    const saved = join(this.imagesDir, 'npm-installs', key);
    if (existsSync(join(saved, 'node_modules'))) {
      await markUsed(saved);
      await cp(join(saved, 'node_modules'), join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true });
      if (existsSync(join(saved, 'package-lock.json')) && !existsSync(join(dir, 'package-lock.json')))
        await cp(join(saved, 'package-lock.json'), join(dir, 'package-lock.json'));
      log(`npm install --omit=dev in ${where}: the same dependencies were installed before (${key.slice(0, 12)}), node_modules reused`);
      return;
    }
    log(`npm install --omit=dev in ${where}`);
    // A handler's dependencies are untrusted: no lifecycle scripts, none of the server's secrets in reach, and
    // every setting that names a program or a path set here (a handler's .npmrc keeps only registries and
    // their credentials, see lockNpmrcFiles). git is refused: a git dependency the manifest check missed (a
    // transitive one, a lock file's) fails to fetch instead of running git.
    const args = [
      'install',
      '--omit=dev',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
      '--cache',
      this.caches(staging.owner).npm,
      '--userconfig',
      '/dev/null',
      `--git=${REFUSED_GIT}`,
      '--script-shell=/bin/sh',
      '--shell=/bin/sh',
      '--node-options=',
      '--editor=/bin/false',
      '--browser=false',
    ];
    let neededGit = false;
    const watch = (line: string) => {
      if (line.includes(`command ${REFUSED_GIT} `)) neededGit = true;
      log(line);
    };
    const clean = !(await lstat(join(dir, 'node_modules')).catch(() => null));
    // The system's npm (its own modules beside it, `node` from the sandbox's PATH): nothing in the context replaces it.
    await this.run(
      this.sandbox ? SANDBOX_NPM : 'npm',
      args,
      staging,
      dir,
      { ...npmEnvironment(), HOME: this.toolHome(staging), npm_config_loglevel: 'warn' },
      watch,
      signal,
      'npm install failed',
    ).catch((error: unknown) => {
      throw neededGit ? new BuildFailure(`npm install failed: a dependency in ${where} needs git; builds refuse git dependencies`) : error;
    });
    const installed = await lstat(join(dir, 'node_modules')).catch(() => null);
    if (!clean || !installed?.isDirectory()) return;
    const saving = `${saved}.${randomUUID()}.tmp`;
    try {
      await cp(join(dir, 'node_modules'), join(saving, 'node_modules'), { recursive: true, verbatimSymlinks: true });
      if ((await lstat(join(dir, 'package-lock.json')).catch(() => null))?.isFile())
        await cp(join(dir, 'package-lock.json'), join(saving, 'package-lock.json'));
      await rename(saving, saved).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(saving, { recursive: true, force: true });
    }
  }

  /** Whether the image's folder is still on disk (disk eviction may have removed it); a held one counts as just used. */
  holds(image: string): Promise<boolean> {
    return holdsLocalImage(this.imagesDir, image);
  }

  /** The build, killed (its whole process tree) and failed when it runs past BUILD_TIMEOUT. */
  async build(request: BuildRequest, log: (line: string) => void, signal: AbortSignal): Promise<BuildResult> {
    const timeout = AbortSignal.timeout(this.policy.timeoutMs);
    const within = AbortSignal.any([signal, timeout]);
    // The timeout covers root's own work between and after the steps too: whatever it waits on, the build ends.
    const stopped = new Promise<never>((_, reject) =>
      within.addEventListener('abort', () => reject(within.reason as Error), { once: true }),
    );
    const work = this.buildWithin(request, log, within);
    work.catch(() => undefined);
    try {
      return await Promise.race([work, stopped]);
    } catch (error) {
      if (timeout.aborted && !signal.aborted) throw new BuildFailure(buildTimeoutReason(this.policy.timeoutMs));
      throw error;
    }
  }

  private async buildWithin(request: BuildRequest, log: (line: string) => void, signal: AbortSignal): Promise<BuildResult> {
    if (request.lang === 'dockerfile') throw new BuildFailure('lang dockerfile needs BuildKit: set BUILDKIT_ADDR to build it');
    if (!OWNER.test(request.owner))
      throw new Error(`build ${request.buildId}: owner ${JSON.stringify(request.owner)} is not a GitHub id or login`);
    const digest = request.contextDigest;
    const folder = join(this.imagesDir, digest.replace(':', '-'));
    log(`local builder: ${request.image}`);
    if (existsSync(folder)) {
      log(`context ${digest.slice(0, 19)} already materialised`);
      await markUsed(folder);
    } else {
      await mkdir(this.imagesDir, { recursive: true });
      const root = join(await realpath(this.imagesDir), `${digest.replace(':', '-')}.${randomUUID()}.tmp`);
      await mkdir(root, { mode: 0o755 });
      const staging: Staging = { root, context: join(root, 'context'), owner: request.owner };
      try {
        await pipeline(Readable.from(request.archive), extract({ cwd: root, strict: true, preservePaths: false }), { signal });
        await checkContext(staging);
        // root's own file, written before any step had the context: 'wx' never follows a link nor opens a FIFO.
        await writeFile(
          join(root, 'image.json'),
          `${JSON.stringify({ image: request.image, contextDigest: digest, buildArgs: request.buildArgs })}\n`,
          { flag: 'wx' },
        );
        await lockNpmrcFiles(staging.context, log);
        for (const dir of await packageFolders(staging.context)) await this.npmInstall(dir, staging, log, signal);
        for (const file of await requirementFiles(staging.context)) await this.pipInstall(staging, file, log, signal);
        await checkContext(staging);
        signal.throwIfAborted();
        await rename(root, folder).catch(async (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
        });
        log(`context ${digest.slice(0, 19)} materialised`);
      } finally {
        // Retried: a killed step's last writes can still be landing while the tree is torn down.
        await rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
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
  const candidates = [
    root,
    ...(await readdir(root, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => join(root, entry.name)),
  ];
  const found: string[] = [];
  for (const dir of candidates) {
    const manifest = await readContextFile(join(dir, 'package.json'));
    if (manifest === null) continue;
    const { dependencies } = parseManifest(manifest, dir.split('/context/')[1] ?? '.') as { dependencies?: Record<string, string> };
    if (dependencies && typeof dependencies === 'object' && Object.keys(dependencies).length > 0) found.push(dir);
  }
  return found;
}

function parseManifest(content: Buffer, where: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(content.toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new BuildFailure(`${where === '.' ? '' : `${where}/`}package.json is not valid JSON`);
}

/**
 * The context, after the build uid had it: still a real folder (not a symlink, not moved) right in the staging
 * folder, so whatever root does next in it stays in it.
 */
async function checkContext({ root, context }: Staging): Promise<void> {
  const info = await lstat(context).catch(() => null);
  const real = await realpath(context).catch(() => null);
  if (!info?.isDirectory() || real !== join(root, 'context'))
    throw new BuildFailure('the build context is no longer a folder: a build step replaced it');
}

/** What an npm install in `dir` depends on (see `npmInstall`), as a sha256. */
async function npmInstallKey(dir: string, owner: string): Promise<string> {
  // Per owner: an install is only reused by the owner whose build made it.
  const hash = createHash('sha256').update(`npm-install 2\0${owner}\0${process.version}\0`);
  for (const [name, value] of Object.entries(npmEnvironment())
    .filter(([name]) => /^npm_config_/i.test(name))
    .sort())
    hash.update(`env ${name}=${value}\0`);
  for (const file of ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', '.npmrc']) {
    const content = await readContextFile(join(dir, file));
    hash.update(`${file} ${content === null ? '-' : content.length}\0`);
    if (content) hash.update(content);
  }
  const manifest = parseManifest((await readContextFile(join(dir, 'package.json')))!, '.') as Record<
    string,
    Record<string, string> | undefined
  >;
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
    for (const entry of (await readdir(path)).filter((entry) => entry !== 'node_modules').sort())
      await hashTree(join(path, entry), hash, root);
    return;
  }
  const content = await readContextFile(path);
  if (content === null) return void hash.update(`special ${name}\0`);
  hash.update(`file ${name} ${info.mode & 0o777} ${content.length}\0`);
  hash.update(content);
}

/** PATH, proxies and certificates, and the tool's own settings matching `own`: nothing else of the server's environment. */
function toolEnvironment(own: RegExp): Record<string, string> {
  const kept = Object.entries(process.env).filter(
    ([name]) => name === 'PATH' || own.test(name) || /^(HTTPS?_PROXY|NO_PROXY|NODE_EXTRA_CA_CERTS)$/i.test(name),
  );
  return Object.fromEntries(kept) as Record<string, string>;
}

/**
 * The operator's npm settings that say where packages come from (registries and their credentials, proxies,
 * certificates). The rest — including what `npm start` puts in the environment (`npm_config_prefix`,
 * `npm_config_node_options`, `npm_config_userconfig`, …) — stays out.
 */
const npmEnvironment = () =>
  toolEnvironment(/^npm_config_(registry|@[^:]+:registry|\/\/.+|https?[-_]proxy|proxy|no[-_]?proxy|ca|cafile|strict[-_]ssl)$/i);

/** The system's npm in the sandbox (bare builds, trusted owners only, use the server's PATH). */
const SANDBOX_NPM = '/usr/bin/npm';

/** What npm runs for git: nothing. A git dependency fails to fetch. */
const REFUSED_GIT = '/bin/false';

/**
 * Passes a stream's text on line by line; holds at most one line. A line longer than the build log keeps is passed
 * on once, cut (the log marks it), and the rest of it is skipped up to the next newline.
 */
function lineSplitter(emit: (line: string) => void): { write: (chunk: Buffer) => void; end: () => void } {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let skipping = false;
  const take = (text: string) => {
    const pieces = (partial + text).split('\n');
    partial = pieces.pop()!;
    for (const line of pieces) {
      if (skipping) skipping = false;
      else if (line.trim() !== '') emit(line.replace(/\r$/, ''));
    }
    if (skipping) partial = '';
    else if (partial.length > MAX_LINE_BYTES) {
      emit(partial);
      [partial, skipping] = ['', true];
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
  const named = ['PIP_FIND_LINKS', 'PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL']
    .flatMap((name) => (env[name] ?? '').split(/\s+/))
    .filter(Boolean);
  const paths = named.map((value) => (value.startsWith('file://') ? new URL(value).pathname : value)).filter((path) => isAbsolute(path));
  return [...new Set(paths)].filter((path) => existsSync(path) && statSync(path).isDirectory());
}

/** Where the local builder records which folder holds an image name. */
/**
 * Whether a locally built image's folder is still on disk under `imagesDir` (disk eviction may have removed it); a
 * held one counts as just used. The API asks too, before it lets a rollback go back to an image.
 */
export async function holdsLocalImage(imagesDir: string, image: string): Promise<boolean> {
  const folder = (await readFile(imageIndexPath(imagesDir, image), 'utf8').catch(() => '')).trim();
  if (folder === '' || !existsSync(folder)) return false;
  await markUsed(folder);
  return true;
}

export const imageIndexPath = (imagesDir: string, image: string) =>
  join(imagesDir, 'by-name', createHash('sha256').update(image).digest('hex'));

/** Non-empty requirements.txt files of the context root and its handler folder. */
async function requirementFiles(root: string): Promise<string[]> {
  const candidates = [
    join(root, 'requirements.txt'),
    ...(await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => join(root, e.name, 'requirements.txt')),
  ];
  const found: string[] = [];
  for (const file of candidates) {
    const text = (await readContextFile(file))?.toString('utf8') ?? '';
    if (text.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#'))) found.push(file);
  }
  return found;
}
