import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildFailure, LocalBuilder, openSandbox, type BuildRequest, type LocalBuildPolicy, type Sandbox } from '#infra';
import { writeTemplates } from '../../../test/support/git-repos.js';
import { buildRequestFor, packageHandler } from '../../../test/support/build-context.js';
import { startNpmRegistry, type NpmRegistry } from './support/npm-registry.js';
import { pythonWheel, sdistWithBackend } from './support/python-packages.js';

/**
 * Tenant code in a sandboxed local build (an sdist's build backend when source builds are allowed, a template's
 * files) against what root does around it: the staging folder, its own files, the package caches, the saved installs.
 */

let work: string;
let templates: string;
let images: string;
let sandbox: Sandbox;

type Files = Record<string, string | Buffer>;

/** A context: the test template (plus `templateFiles` at the context root) and the handler's `files` under fn/. */
async function request(owner: string, files: Files, templateFiles: Files = {}): Promise<BuildRequest> {
  const repo = mkdtempSync(join(work, 'repo-'));
  const write = (root: string, all: Files) => {
    for (const [path, content] of Object.entries(all)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), content);
    }
  };
  write(repo, files);
  const templateRoot = mkdtempSync(join(work, 'templates-'));
  execFileSync('cp', ['-r', join(templates, 'node20'), templateRoot]);
  write(join(templateRoot, 'node20'), templateFiles);
  const context = await packageHandler({ repoDir: repo, templateRoot, cacheDir: join(work, 'template-cache'), maxBytes: 1e8 });
  return buildRequestFor(context, {
    buildId: `b-${context.digest.slice(7, 15)}`,
    owner,
    name: `${owner}-fn`,
    image: `local/${owner}/fn:${context.digest.slice(7, 15)}`,
  });
}

const builder = (policy: Partial<LocalBuildPolicy> = {}) =>
  new LocalBuilder(images, join(work, 'data', 'npm-cache'), { pipSourceBuilds: true, ...policy }, sandbox);
const build = async (built: BuildRequest, policy: Partial<LocalBuildPolicy> = {}) => {
  const lines: string[] = [];
  const error = await builder(policy)
    .build(built, (line) => lines.push(line), new AbortController().signal)
    .then(
      () => null,
      (failure: unknown) => failure as Error,
    );
  return { error, log: lines.join('\n') };
};
const imageFolder = (built: BuildRequest) => join(images, built.contextDigest.replace(':', '-'));

/**
 * An sdist whose build backend runs `attack` (Python; `IMAGES` is the images folder) and then builds a real wheel,
 * so the build succeeds and root goes on to its own work.
 */
function sdist(name: string, attack: string): Buffer {
  return sdistWithBackend(
    work,
    name,
    `
import glob, os, time, zipfile
IMAGES = ${JSON.stringify(images)}
def get_requires_for_build_wheel(config_settings=None):
    return []
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
${attack.replace(/^/gm, '    ')}
    out = os.path.join(wheel_directory, "${name}-1.0-py3-none-any.whl")
    files = {"${name}/__init__.py": "", "${name}-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: ${name}\\nVersion: 1.0\\n",
             "${name}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
    files["${name}-1.0.dist-info/RECORD"] = "".join(p + ",,\\n" for p in files) + "${name}-1.0.dist-info/RECORD,,\\n"
    with zipfile.ZipFile(out, "w") as z:
        for p, t in files.items(): z.writestr(p, t)
    return os.path.basename(out)
`,
  );
}
const withSdist = (name: string, attack: string): Files => ({
  'fn/handler.js': `// ${name}`,
  'fn/requirements.txt': `--no-index\n--find-links dist\n${name}\n`,
  [`fn/dist/${name}-1.0.tar.gz`]: sdist(name, attack),
});

beforeAll(async () => {
  // As in production when run as root: DATA_DIR in a folder other users cannot enter.
  work = mkdtempSync(join(tmpdir(), 'faasline-build-sandbox-'));
  images = join(work, 'data', 'images');
  templates = writeTemplates(['node20']);
  sandbox = (await openSandbox({ mode: 'required', uidBase: 64200 })).sandbox!;
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(templates, { recursive: true, force: true });
});

describe('root’s own files of a build (finding 1, 7)', () => {
  it('are never written through a symlink a build step left in the staging folder', async () => {
    const marker = join(work, 'pwned-through-link');
    const attack = `for staging in glob.glob(IMAGES + "/*.tmp"):\n    for name in ["image.json", "context.json"]:\n        try: os.symlink(${JSON.stringify(marker)}, os.path.join(staging, name))\n        except OSError: pass`;
    const built = await request('mallory', withSdist('linker', attack));
    const { error } = await build(built);
    expect(error).toBeNull();
    expect(existsSync(marker)).toBe(false);
    expect(lstatSync(join(imageFolder(built), 'image.json')).isFile()).toBe(true);
    expect(JSON.parse(readFileSync(join(imageFolder(built), 'image.json'), 'utf8'))).toMatchObject({ image: built.image });
  }, 60_000);

  it('never block on a FIFO a build step left: the build finishes', async () => {
    const attack = `for staging in glob.glob(IMAGES + "/*.tmp"):\n    try: os.mkfifo(os.path.join(staging, "image.json"))\n    except OSError: pass`;
    const built = await request('mallory', withSdist('fifo', attack));
    const { error } = await build(built, { timeoutMs: 30_000 });
    expect(error).toBeNull();
    expect(lstatSync(join(imageFolder(built), 'image.json')).isFile()).toBe(true);
  }, 60_000);

  it('stay out of a context a build step replaced with a symlink', async () => {
    const attack = `for staging in glob.glob(IMAGES + "/*.tmp"):\n    try:\n        os.rename(staging + "/context", staging + "/context.real")\n        os.symlink("/", staging + "/context")\n    except OSError: pass`;
    const built = await request('mallory', withSdist('relinker', attack));
    const { error } = await build(built);
    if (error) expect(error).toEqual(new BuildFailure('the build context is no longer a folder: a build step replaced it'));
    else expect(lstatSync(join(imageFolder(built), 'context')).isDirectory()).toBe(true);
    expect(lstatSync('/').uid).toBe(0);
    expect(existsSync('/python_packages')).toBe(false);
  }, 60_000);
});

describe('taking the context back from the build uid', () => {
  it('removes FIFOs and files with more than one name, and leaves the rest root’s', async () => {
    const attack = `ctx = glob.glob(IMAGES + "/*.tmp/context")[0]\nos.mkfifo(ctx + "/fifo")\nopen(ctx + "/first", "w").write("x")\nos.link(ctx + "/first", ctx + "/second")\nopen(ctx + "/plain", "w").write("kept")\nos.symlink("/etc/hostname", ctx + "/link")`;
    const built = await request('mallory', withSdist('linkmaker', attack));
    const { error } = await build(built);
    expect(error).toBeNull();
    const context = join(imageFolder(built), 'context');
    expect(['fifo', 'first', 'second'].filter((name) => existsSync(join(context, name)))).toEqual([]);
    expect(readFileSync(join(context, 'plain'), 'utf8')).toBe('kept');
    expect(lstatSync(join(context, 'link')).isSymbolicLink()).toBe(true);
    const owners = execFileSync('find', [context, '!', '-user', 'root'], { encoding: 'utf8' }).trim();
    expect(owners).toBe('');
  }, 60_000);
});

describe('pip', () => {
  it('is the system’s: a `pip` module in the context does not replace it', async () => {
    const fakePip =
      'import os, sys\nt = sys.argv[sys.argv.index("--target") + 1]\nos.makedirs(t, exist_ok=True)\nopen(os.path.join(t, "FAKE-PIP-RAN"), "w").write("x")\n';
    const built = await request(
      'mallory',
      {
        'fn/handler.js': '// pip',
        'fn/requirements.txt': '--no-index\n--find-links wheels\ngreet\n',
        'fn/wheels/greet-1.0-py3-none-any.whl': pythonWheel(work, 'greet'),
      },
      { 'pip/__init__.py': '', 'pip/__main__.py': fakePip },
    );
    const { error } = await build(built, { pipSourceBuilds: false });
    expect(error).toBeNull();
    expect(existsSync(join(imageFolder(built), 'context', 'python_packages', 'FAKE-PIP-RAN'))).toBe(false);
    expect(existsSync(join(imageFolder(built), 'context', 'python_packages', 'greet', '__init__.py'))).toBe(true);
  }, 60_000);
});

describe('package caches (finding 3)', () => {
  it('are the owner’s own: a build cannot write another owner’s cache', async () => {
    await build(await request('dave', withSdist('davepkg', 'pass')));
    // Every folder of both caches it can see gets a marker.
    const attack = `for root in [os.path.dirname(IMAGES) + "/npm-cache", os.path.dirname(IMAGES) + "/npm-cache-pip"]:\n    for dirpath, dirs, files in os.walk(root):\n        try: open(os.path.join(dirpath, "MARKER-mallory"), "w").write("x")\n        except OSError: pass`;
    const built = await request('mallory', withSdist('cachewriter', attack));
    const { error } = await build(built);
    expect(error).toBeNull();
    const markers = execFileSync('find', [join(work, 'data'), '-name', 'MARKER-mallory'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    expect(markers.length).toBeGreaterThan(0);
    for (const marker of markers) expect(marker).toMatch(/\/npm-cache(-pip)?\/mallory\//);
    expect(readdirSync(join(work, 'data', 'npm-cache-pip')).sort()).toEqual(['dave', 'mallory']);
  }, 90_000);
});

describe('saved npm installs (finding 4)', () => {
  let registry: NpmRegistry;
  let url: string;

  beforeAll(async () => {
    registry = await startNpmRegistry('module.exports = () => "genuine";\n');
    url = registry.url;
  });
  afterAll(() => registry.close());

  it('never keep a node_modules the handler shipped, nor hand one owner’s install to another', async () => {
    const manifest = JSON.stringify({ name: 'fn', dependencies: { greeting: '^1.0.0' } });
    const npmrc = `registry=${url}/\n`;
    const mallory = await request('mallory', {
      'fn/handler.js': '// mallory',
      'fn/package.json': manifest,
      'fn/.npmrc': npmrc,
      'fn/node_modules/greeting/package.json': '{"name":"greeting","version":"1.0.0","main":"index.js"}',
      'fn/node_modules/greeting/index.js': 'module.exports = () => "poisoned";\n',
    });
    const first = await build(mallory);
    expect(first.error).toBeNull();
    expect(first.log).toMatch(/function\/node_modules left out/);
    const installed = (built: BuildRequest) =>
      readFileSync(join(imageFolder(built), 'context', 'function', 'node_modules', 'greeting', 'index.js'), 'utf8');
    expect(installed(mallory)).toMatch(/genuine/);
    const bob = await request('bob', { 'fn/handler.js': '// bob', 'fn/package.json': manifest, 'fn/.npmrc': npmrc });
    const second = await build(bob);
    expect(second.error).toBeNull();
    expect(installed(bob)).toMatch(/genuine/);
    expect(second.log).not.toMatch(/node_modules reused/);
    for (const saved of readdirSync(join(images, 'npm-installs')))
      expect(readFileSync(join(images, 'npm-installs', saved, 'node_modules', 'greeting', 'index.js'), 'utf8')).toMatch(/genuine/);
  }, 120_000);
});

describe('MAX_BUILD_MB (finding 9)', () => {
  it('kills a step writing past the quota and fails the build with the reason', async () => {
    const attack = `ctx = glob.glob(IMAGES + "/*.tmp/context")[0]\nfor i in range(4):\n    with open(os.path.join(ctx, "blob%d" % i), "wb") as f: f.write(os.urandom(8 * 2**20))\ntime.sleep(60)`;
    const started = Date.now();
    const { error, log } = await build(await request('mallory', withSdist('filler', attack)), {
      maxBuildBytes: 16 * 2 ** 20,
      timeoutMs: 50_000,
    });
    expect(error).toEqual(new BuildFailure('build exceeded MAX_BUILD_MB: it wrote more than 16 MB'));
    expect(Date.now() - started).toBeLessThan(40_000);
    expect(log).not.toMatch(/materialised/);
  }, 60_000);
});

describe('the build log (finding 13)', () => {
  it('names no server path', async () => {
    const built = await request('carol', { 'fn/handler.js': '// carol' });
    const { error, log } = await build(built);
    expect(error).toBeNull();
    expect(log).toMatch(/materialised/);
    expect(log).not.toContain(work);
  }, 30_000);
});

describe('the sandbox’s mounts (finding 2)', () => {
  it('binds a symlinked source by its real path', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'faasline-public-'));
    chmodSync(outside, 0o755);
    writeFileSync(join(outside, 'file'), 'through the link');
    chmodSync(join(outside, 'file'), 0o644);
    const link = join(work, 'link');
    symlinkSync(outside, link);
    try {
      const child = sandbox.spawn({
        program: '/bin/cat',
        args: ['/mnt/file'],
        cwd: '/',
        env: {},
        mounts: [{ source: link, target: '/mnt' }],
        limits: { memoryBytes: 64 * 2 ** 20, cpus: 1, pids: 16, fileSizeBytes: 2 ** 20 },
        role: 'function',
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect({ code, out }).toEqual({ code: 0, out: 'through the link' });
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  }, 30_000);
});
