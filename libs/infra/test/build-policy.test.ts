import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildFailure, BuildLog, LocalBuilder, type BuildRequest, type LocalBuildPolicy } from '#infra';
import { buildRequestFor, packageHandler } from '../../../test/support/build-context.js';
import { writeTemplates } from '../../../test/support/git-repos.js';
import { startNpmRegistry, type NpmRegistry } from './support/npm-registry.js';
import { pythonWheel, sdistWithBackend } from './support/python-packages.js';

/** The local builder's policy for a handler's dependencies: BUILD_TIMEOUT, capped output, locked npm, wheels-only pip. */

let work: string;
let templates: string;

type Files = Record<string, string | Buffer | { content: string; mode: number }>;

async function request(files: Files): Promise<BuildRequest> {
  const repo = mkdtempSync(join(work, 'repo-'));
  for (const [path, value] of Object.entries(files)) {
    mkdirSync(join(repo, path, '..'), { recursive: true });
    const content = typeof value === 'string' || Buffer.isBuffer(value) ? value : value.content;
    writeFileSync(join(repo, path), content);
    if (typeof value === 'object' && !Buffer.isBuffer(value)) chmodSync(join(repo, path), value.mode);
  }
  const context = await packageHandler({ repoDir: repo, templateRoot: templates, cacheDir: work, maxBytes: 1e8 });
  return buildRequestFor(context, {
    buildId: `b-${context.digest.slice(7, 15)}`,
    owner: 'alexellis',
    name: 'alexellis-fn',
    image: 'registry.invalid:5000/alexellis/repo-fn:latest-master-abcdef0',
    contextUrl: 'http://unused.invalid/',
  });
}

const builder = (policy: Partial<LocalBuildPolicy> = {}) => new LocalBuilder(join(work, 'images'), join(work, 'npm-cache'), policy);
const build = async (policy: Partial<LocalBuildPolicy>, files: Files) => {
  const log = new BuildLog();
  const outcome = await builder(policy)
    .build(await request(files), (line) => log.push(line), new AbortController().signal)
    .then(
      () => null,
      (error: unknown) => error as Error,
    );
  return { error: outcome, log: log.text() };
};
const imageFolder = (built: BuildRequest) => join(work, 'images', built.contextDigest.replace(':', '-'));

/** A source distribution whose in-tree build backend runs `backend` (Python) when pip asks it what it needs. */
const sdist = (name: string, backend: string): Buffer =>
  sdistWithBackend(
    work,
    name,
    `def get_requires_for_build_wheel(config_settings=None):\n${backend.replace(/^/gm, '    ')}\n    return []\n\ndef build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n    raise RuntimeError("no")\n`,
  );

const alive = (pid: number) => {
  const status = (() => {
    try {
      return readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return null;
    }
  })();
  return status !== null && !/^State:\s+Z/m.test(status);
};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'faasline-build-policy-'));
  templates = writeTemplates(['node20']);
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(templates, { recursive: true, force: true });
});

describe('BUILD_TIMEOUT', () => {
  it('kills a build past it together with the processes it started, and fails it with the reason', async () => {
    const pidFile = join(work, 'sleeper.pid');
    const slow = sdist(
      'slow',
      `import subprocess, time\nchild = subprocess.Popen(["sleep", "300"])\nopen(${JSON.stringify(pidFile)}, "w").write(str(child.pid))\ntime.sleep(300)`,
    );
    const started = Date.now();
    const { error, log } = await build(
      // Long enough for pip to reach the sleeper on a busy machine.
      { timeoutMs: 10_000, pipSourceBuilds: true },
      {
        'fn/handler.js': 'x',
        'fn/requirements.txt': '--no-index\n--find-links dist\nslow\n',
        'fn/dist/slow-1.0.tar.gz': slow,
      },
    );
    expect(error).toEqual(new BuildFailure('build exceeded BUILD_TIMEOUT of 10 s'));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(log).toMatch(/pip install --target python_packages -r function\/requirements.txt/);
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    expect(sleeper).toBeGreaterThan(0);
    // SIGKILL is delivered at once, but give the kernel a moment to tear the process down.
    for (let i = 0; i < 20 && alive(sleeper); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alive(sleeper)).toBe(false);
  }, 60_000);
});

describe('build output', () => {
  it('keeps the log’s head and tail of a 30 MB flood with bounded memory', async () => {
    const loud = sdist(
      'loud',
      `import sys\nline = "flood " + "z" * 993 + "\\n"\nfor i in range(31_000): sys.stdout.write(line)\nsys.stdout.flush()\nraise SystemExit(1)`,
    );
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const log = new BuildLog();
    let printed = 0;
    const outcome = await builder({ pipSourceBuilds: true })
      .build(
        await request({
          'fn/handler.js': 'x',
          'fn/requirements.txt': '--no-index\n--find-links dist\nloud\n',
          'fn/dist/loud-1.0.tar.gz': loud,
        }),
        (line) => {
          printed += line.length + 1;
          log.push(line);
        },
        new AbortController().signal,
      )
      .catch((error: Error) => error);
    clearInterval(sampler);
    expect(outcome).toBeInstanceOf(BuildFailure);
    expect(printed).toBeGreaterThan(30_000_000);
    const text = log.text();
    expect(Buffer.byteLength(text)).toBeLessThan(2.1 * 1024 * 1024);
    expect(text).toMatch(/^local builder: /);
    expect(text).toMatch(/\n… \d+ bytes omitted …\n/);
    expect(log.omittedBytes).toBeGreaterThan(28_000_000);
    expect(log.lastLines()).toMatch(/error|ERROR|note/);
    // Generous: holding the output (as before) grew the process by well over 100 MB.
    expect(peak - before).toBeLessThan(80 * 1024 * 1024);
  }, 120_000);
});

describe('npm with a locked configuration', () => {
  let gitRepo: string;
  const marker = () => join(work, 'npm-pwned');
  const attack = () => ({
    'fn/.npmrc': `git=./script.sh\nscript-shell=./script.sh\nnode-options=--require ./script.js\n`,
    'fn/script.sh': { content: `#!/bin/sh\ntouch ${marker()}\nexec git "$@"\n`, mode: 0o755 },
    'fn/script.js': `require('fs').writeFileSync(${JSON.stringify(marker())}, 'node-options');\n`,
    'fn/handler.js': 'x',
  });

  beforeAll(() => {
    gitRepo = join(work, 'git-dep');
    mkdirSync(gitRepo);
    writeFileSync(join(gitRepo, 'package.json'), '{"name":"gitdep","version":"1.0.0"}');
    execFileSync('git', ['init', '-q'], { cwd: gitRepo });
    execFileSync('git', ['add', '.'], { cwd: gitRepo });
    execFileSync('git', ['-c', 'user.email=a@b.c', '-c', 'user.name=a', 'commit', '-qm', 'x'], { cwd: gitRepo });
  });

  it('refuses a git dependency and runs nothing a handler’s .npmrc names', async () => {
    rmSync(marker(), { force: true });
    const { error, log } = await build(
      {},
      { ...attack(), 'fn/package.json': JSON.stringify({ name: 'fn', dependencies: { gitdep: `git+file://${gitRepo}` } }) },
    );
    expect(error).toEqual(
      new BuildFailure(
        `function/package.json: git dependency gitdep (git+file://${gitRepo}) refused: builds install registry and local packages only`,
      ),
    );
    expect(log).toMatch(/function\/\.npmrc: ignored git, script-shell, node-options/);
    expect(existsSync(marker())).toBe(false);
  });

  it('refuses a git dependency of a dependency without running git or the .npmrc’s program', async () => {
    rmSync(marker(), { force: true });
    const { error } = await build(
      {},
      {
        ...attack(),
        'fn/package.json': JSON.stringify({ name: 'fn', dependencies: { lib: 'file:./lib' } }),
        'fn/lib/package.json': JSON.stringify({ name: 'lib', version: '1.0.0', dependencies: { gitdep: `git+file://${gitRepo}` } }),
      },
    );
    expect(error).toEqual(new BuildFailure('npm install failed: a dependency in function needs git; builds refuse git dependencies'));
    expect(existsSync(marker())).toBe(false);
  });

  describe('a registry the handler’s .npmrc names', () => {
    let registry: NpmRegistry;
    let url: string;

    beforeAll(async () => {
      registry = await startNpmRegistry('module.exports = () => "hello from the registry";\n', 't0ken');
      url = registry.url;
    });
    afterAll(() => registry.close());

    it('installs from it with its credentials, and leaves out the rest of the file', async () => {
      rmSync(marker(), { force: true });
      const built = await request({
        ...attack(),
        'fn/.npmrc': `registry=${url}/\n//127.0.0.1:${new URL(url).port}/:_authToken=t0ken\ngit=./script.sh\nscript-shell=./script.sh\n`,
        'fn/package.json': JSON.stringify({ name: 'fn', dependencies: { greeting: '1.0.0' } }),
      });
      const lines: string[] = [];
      await builder().build(built, (line) => lines.push(line), new AbortController().signal);
      const installed = join(imageFolder(built), 'context', 'function', 'node_modules', 'greeting', 'index.js');
      expect(readFileSync(installed, 'utf8')).toMatch(/hello from the registry/);
      expect(registry.requests).toContain('GET /greeting Bearer t0ken');
      expect(lines.join('\n')).toMatch(/function\/\.npmrc: ignored git, script-shell/);
      expect(readFileSync(join(imageFolder(built), 'context', 'function', '.npmrc'), 'utf8')).toBe(
        `registry=${url}/\n//127.0.0.1:${new URL(url).port}/:_authToken=t0ken\n`,
      );
      expect(existsSync(marker())).toBe(false);
    }, 60_000);
  });
});

describe('pip, wheels only unless the operator allows source builds', () => {
  const marker = () => join(work, 'pip-pwned');
  const evil = () => sdist('evil', `open(${JSON.stringify(marker())}, "w").write("built")`);

  it('installs wheels from a folder the requirements name', async () => {
    const built = await request({
      'fn/handler.js': 'x',
      'fn/requirements.txt': '--no-index\n--find-links wheels\ngreet\n',
      'fn/wheels/greet-1.0-py3-none-any.whl': pythonWheel(work, 'greet', "def hello():\n    return 'hello'\n"),
    });
    await builder().build(built, () => undefined, new AbortController().signal);
    expect(existsSync(join(imageFolder(built), 'context', 'python_packages', 'greet', '__init__.py'))).toBe(true);
  }, 60_000);

  it('refuses a package only available as source, and builds it when the operator allows source builds', async () => {
    const files = {
      'fn/handler.js': 'x',
      'fn/requirements.txt': '--no-index\n--find-links dist\nevil\n',
      'fn/dist/evil-1.0.tar.gz': evil(),
    };
    rmSync(marker(), { force: true });
    const refused = await build({}, files);
    expect(refused.error).toBeInstanceOf(BuildFailure);
    expect(refused.error!.message).toMatch(/^pip install failed \(wheels only: PIP_SOURCE_BUILDS=true allows source builds\): .*evil/);
    expect(existsSync(marker())).toBe(false);
    const allowed = await build({ pipSourceBuilds: true }, { ...files, 'fn/handler.js': 'y' });
    expect(allowed.error).toBeInstanceOf(BuildFailure); // the backend builds no wheel, but it ran
    expect(readFileSync(marker(), 'utf8')).toBe('built');
  }, 60_000);

  it.each([
    [
      'an in-tree source folder',
      './function/intree',
      /function\/requirements.txt:1: \.\/function\/intree is a source tree or archive: building it runs its build backend; the operator allows that with PIP_SOURCE_BUILDS=true/,
    ],
    ['an editable install', '-e ./function/intree', /option -e refused: building it runs its build backend/],
    ['--no-binary', '--no-binary :all:\nrequests', /option --no-binary refused/],
    ['--only-binary :none:', '--only-binary :none:\nrequests', /--only-binary :none: refused/],
    ['a VCS requirement', 'git+https://github.com/a/b.git#egg=b', /VCS requirement .* refused/],
    ['a path outside the context', 'pkg @ file:///etc/passwd', /is outside the handler's folder/],
    ['an included file outside the context', '-r /etc/hosts', /outside the handler's folder/],
    ['a build backend option', 'requests --config-settings=x=y', /option --config-settings refused/],
    ['an environment variable', '--index-url https://${PIP_TOKEN}@pypi.example/simple\nrequests', /environment variables/],
  ])('refuses %s with a clear reason before pip runs', async (_what, requirements, reason) => {
    rmSync(marker(), { force: true });
    const { error } = await build(
      {},
      {
        'fn/handler.js': `// ${requirements}`,
        'fn/requirements.txt': `${requirements}\n`,
        'fn/intree/pyproject.toml': '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n',
        'fn/intree/backend.py': `open(${JSON.stringify(marker())}, "w").write("built")\n`,
      },
    );
    expect(error).toBeInstanceOf(BuildFailure);
    expect(error!.message).toMatch(reason);
    expect(existsSync(marker())).toBe(false);
  });
});
