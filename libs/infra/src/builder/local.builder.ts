import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { cp, lstat, mkdir, readdir, readFile, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar';
import { SANDBOX_PATH, SANDBOX_PYTHON, type Sandbox, type SandboxedProcess } from '../sandbox/sandbox.port.js';
import { BuildFailure, type Builder, type BuildRequest, type BuildResult } from './builder.port.js';

/** What one build step (an npm or pip install) may use: one core, every core for its first 5 s (most installs). */
const BUILD_LIMITS = { memoryBytes: 1024 * 2 ** 20, cpus: 1, startup: { cpus: availableParallelism(), ms: 5000 }, pids: 512, fileSizeBytes: 512 * 2 ** 20 };

/**
 * Embedded mode's builder: the build context becomes a content-addressed image folder under `DATA_DIR/images`,
 * which the embedded gateway runs. Equal contexts share one folder. (Dependency installs arrive with the
 * embedded gateway's templates.)
 */
export class LocalBuilder implements Builder {
  readonly kind = 'local';

  constructor(
    private readonly imagesDir: string,
    private readonly npmCacheDir: string,
    /** Where npm and pip run; null: bare child processes (only for trusted owners, see the push policy). */
    private readonly sandbox: Sandbox | null = null,
  ) {}

  /** `pip install --target python_packages -r <requirements>`; pip's own settings (index, find-links) come from the environment. */
  private async pipInstall(context: string, requirements: string, log: (line: string) => void, signal: AbortSignal): Promise<void> {
    log(`pip install --target python_packages -r ${requirements.split('/context/')[1] ?? requirements}`);
    const args = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--target', join(context, 'python_packages'), '--cache-dir', `${this.npmCacheDir}-pip`, '-r', requirements];
    await this.run('python3', args, context, { ...toolEnvironment(), HOME: context }, log, signal, 'pip install failed');
  }

  private async run(command: string, args: string[], cwd: string, env: Record<string, string>, log: (line: string) => void, signal: AbortSignal, failure: string): Promise<void> {
    const output: string[] = [];
    const code = await new Promise<number>((resolve, reject) => {
      const child = this.sandbox ? this.spawnSandboxed(command, args, cwd, env, signal) : spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], signal });
      const collect = (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          output.push(line);
          log(line);
        }
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', reject);
      child.on('close', (exit) => resolve(exit ?? 1));
    });
    if (code !== 0) throw new BuildFailure(`${failure}: ${output.filter((line) => /ERR|error/i.test(line)).slice(-1)[0] ?? `exit ${code}`}`.slice(0, 120));
  }

  /**
   * A build step in the sandbox: the system read-only, writable only this build's staging folder (lent to the build
   * uid for the step) and the package caches, each at its own path so the arguments stay valid; the network is open.
   */
  private spawnSandboxed(command: string, args: string[], cwd: string, env: Record<string, string>, signal: AbortSignal): SandboxedProcess {
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
      signal,
    });
  }

  /**
   * `npm install --omit=dev` where a package.json declares dependencies; npm's own configuration (registry, proxy)
   * comes from the environment. Like the Docker layer cache of the official templates (package.json copied and
   * installed before the handler), an install whose inputs were installed before is reused: the key covers the
   * manifests, lock files, `.npmrc`, local (`file:`) dependencies' files, npm's settings and the Node version.
   */
  private async npmInstall(dir: string, log: (line: string) => void, signal: AbortSignal): Promise<void> {
    const where = dir.split('/context/')[1] ?? '.';
    const key = await npmInstallKey(dir);
    const saved = join(this.imagesDir, 'npm-installs', key);
    if (existsSync(join(saved, 'node_modules'))) {
      await cp(join(saved, 'node_modules'), join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true });
      if (existsSync(join(saved, 'package-lock.json')) && !existsSync(join(dir, 'package-lock.json'))) await cp(join(saved, 'package-lock.json'), join(dir, 'package-lock.json'));
      log(`npm install --omit=dev in ${where}: the same dependencies were installed before (${key.slice(0, 12)}), node_modules reused`);
      return;
    }
    log(`npm install --omit=dev in ${where}`);
    // A handler's dependencies are untrusted: no lifecycle scripts, and none of the server's secrets in reach.
    const args = ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--no-update-notifier', '--cache', this.npmCacheDir];
    await this.run('npm', args, dir, { ...toolEnvironment(), HOME: dir, npm_config_loglevel: 'warn' }, log, signal, 'npm install failed');
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

  async build(request: BuildRequest, log: (line: string) => void, signal: AbortSignal): Promise<BuildResult> {
    if (request.lang === 'dockerfile') throw new BuildFailure('lang dockerfile needs BuildKit: set BUILDKIT_ADDR to build it');
    const digest = request.contextDigest;
    const folder = join(this.imagesDir, digest.replace(':', '-'));
    log(`local builder: ${request.image}`);
    if (existsSync(folder)) {
      log(`context ${digest.slice(0, 19)} already materialised`);
    } else {
      const staging = `${folder}.${randomUUID()}.tmp`;
      await mkdir(staging, { recursive: true });
      try {
        await pipeline(Readable.from(request.archive), extract({ cwd: staging, strict: true, preservePaths: false }), { signal });
        for (const dir of await packageFolders(join(staging, 'context'))) await this.npmInstall(dir, log, signal);
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
  for (const [name, value] of Object.entries(toolEnvironment()).filter(([name]) => /^npm_config_/i.test(name)).sort()) hash.update(`env ${name}=${value}\0`);
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

/** PATH and npm's and pip's own settings (registry, index, find-links, proxies, certificates), nothing else of the server's environment. */
function toolEnvironment(): Record<string, string> {
  const kept = Object.entries(process.env).filter(
    ([name]) => name === 'PATH' || /^(npm_config_|PIP_)/i.test(name) || /^(HTTPS?_PROXY|NO_PROXY|NODE_EXTRA_CA_CERTS)$/i.test(name),
  );
  return Object.fromEntries(kept) as Record<string, string>;
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
