import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildFailure, BuildKitBuilder, contextTarball, LocalBuilder, type Builder, type BuildRequest } from '#infra';
import { startFakeBuildKit, type FakeBuildKit } from '../../../test/support/fake-buildkit.js';
import { buildRequestFor, packageHandler } from '../../../test/support/build-context.js';
import { writeTemplates } from '../../../test/support/git-repos.js';
import { eventually } from './support/backbones.js';

let work: string;
let templates: string;
let buildkit: FakeBuildKit;
let contexts: Server;
let contextsUrl: string;
const archives = new Map<string, Buffer>();

async function request(files: Record<string, string>, lang = 'node20'): Promise<BuildRequest> {
  const repo = mkdtempSync(join(work, 'repo-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(repo, path, '..'), { recursive: true });
    writeFileSync(join(repo, path), content);
  }
  const context = await packageHandler({ repoDir: repo, templateRoot: templates, cacheDir: work, lang });
  archives.set(context.digest, context.archive);
  return buildRequestFor(context, {
    buildId: `b-${context.digest.slice(7, 15)}`,
    owner: 'alexellis',
    name: 'alexellis-fn',
    lang,
    image: 'registry.invalid:5000/alexellis/repo-fn:latest-master-abcdef0',
    contextUrl: `${contextsUrl}/${context.digest}`,
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'faasline-builders-'));
  templates = writeTemplates(['node20']);
  buildkit = await startFakeBuildKit();
  contexts = createServer((req, res) => {
    const archive = archives.get(req.url!.slice(1));
    if (!archive) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/gzip' }).end(contextTarball(archive));
  });
  await new Promise<void>((resolve) => contexts.listen(0, '127.0.0.1', resolve));
  contextsUrl = `http://127.0.0.1:${(contexts.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await buildkit.close();
  await new Promise((resolve) => contexts.close(resolve));
  rmSync(work, { recursive: true, force: true });
  rmSync(templates, { recursive: true, force: true });
});

/** `failing` is a broken build; `reason` what its BuildFailure must tell the user, `logged` what its log must show. */
type Adapter = Readonly<{ name: string; builder: () => Builder; failing: () => Promise<BuildRequest>; reason: RegExp; logged: RegExp }>;
const adapters: Adapter[] = [
  {
    name: 'local builder',
    builder: () => new LocalBuilder(join(work, 'images'), join(work, 'npm-cache')),
    failing: () => request({ 'fn/handler.js': 'x', 'fn/package.json': '{"dependencies": {' }),
    reason: /^function\/package\.json is not valid JSON$/,
    // npm is never reached: the builder names the image it was building, the reason is the failure's.
    logged: /^local builder: registry\.invalid:5000\/alexellis\/repo-fn:latest-master-abcdef0$/,
  },
  {
    name: 'BuildKit (fake daemon over the same .proto)',
    builder: () => new BuildKitBuilder(buildkit.address),
    failing: () =>
      request(
        { 'fn/Dockerfile': 'FROM alpine\nRUN echo "compiling fn" && echo "fn.c:1: error: expected a semicolon" >&2 && exit 2\n' },
        'dockerfile',
      ),
    reason:
      /^process "\/bin\/sh -c echo "compiling fn" && echo "fn\.c:1: error: expected a semicolon" >&2 && exit 2" did not complete successfully: exit code: 2$/,
    logged:
      /^#3 compiling fn\n#3 fn\.c:1: error: expected a semicolon\n#3 ERROR: process "\/bin\/sh -c .*" did not complete successfully: exit code: 2$/m,
  },
];

describe.each(adapters)('builder port: $name', (adapter) => {
  it('builds a context into the requested image and logs what it did', async () => {
    const lines: string[] = [];
    const built = await adapter
      .builder()
      .build(
        await request({ 'fn/handler.js': 'module.exports = async () => "hi";\n' }),
        (line) => lines.push(line),
        new AbortController().signal,
      );
    expect(built.image).toBe('registry.invalid:5000/alexellis/repo-fn:latest-master-abcdef0');
    expect(built.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(lines.length).toBeGreaterThan(0);
  });

  it('fails a broken build with a BuildFailure the user can read', async () => {
    const lines: string[] = [];
    const failing = adapter.builder().build(await adapter.failing(), (line) => lines.push(line), new AbortController().signal);
    await expect(failing).rejects.toThrow(BuildFailure);
    const { message } = (await failing.catch((error: Error) => error)) as Error;
    // The reason itself, in one line of text: no stack trace, no gRPC or Node wrapping around it.
    expect(message).toMatch(adapter.reason);
    expect(message).not.toMatch(/\n\s+at |^Error|UNKNOWN:|\[object /);
    expect(lines.join('\n')).toMatch(adapter.logged);
  });
});

describe('BuildKit builder', () => {
  it('keeps streaming the log of a long build until the daemon finishes it', async () => {
    const slow = buildkit.hold(() => true);
    const lines: string[] = [];
    const build = new BuildKitBuilder(buildkit.address).build(
      await request({ 'fn/handler.js': 'slow' }),
      (line) => lines.push(line),
      new AbortController().signal,
    );
    await slow.reached;
    // The daemon is still at work, held until the log has streamed its lines so far: then it finishes.
    await eventually(async () => lines.some((line) => /context: \d+ files/.test(line)), 30_000, 'the log to stream during the build');
    expect(lines.join('\n')).not.toMatch(/exporting to image/);
    slow.release();
    await build;
    expect(lines.join('\n')).toMatch(/exporting to image/);
  });
});

describe('BuildKit builder past BUILD_TIMEOUT', () => {
  it('fails the solve with the reason once its deadline passes', async () => {
    const slow = buildkit.hold(() => true);
    try {
      const build = new BuildKitBuilder(buildkit.address, 1000).build(
        await request({ 'fn/handler.js': 'too slow' }),
        () => undefined,
        new AbortController().signal,
      );
      await expect(build).rejects.toEqual(new BuildFailure('build exceeded BUILD_TIMEOUT of 1 s'));
    } finally {
      slow.release();
    }
  });
});

describe('local builder', () => {
  it('installs a handler’s production dependencies into a content-addressed image folder', async () => {
    const built = await request({
      'fn/handler.js': 'module.exports = async () => require("greeting")();\n',
      'fn/package.json': '{"name":"fn","dependencies":{"greeting":"file:./greeting"}}',
      'fn/greeting/package.json': '{"name":"greeting","version":"1.0.0","main":"index.js"}',
      'fn/greeting/index.js': 'module.exports = () => "hello";\n',
    });
    const lines: string[] = [];
    await new LocalBuilder(join(work, 'images'), join(work, 'npm-cache')).build(
      built,
      (line) => lines.push(line),
      new AbortController().signal,
    );
    const folder = join(work, 'images', built.contextDigest.replace(':', '-'));
    expect(existsSync(join(folder, 'context', 'function', 'node_modules', 'greeting', 'package.json'))).toBe(true);
    expect(lines.join('\n')).toMatch(/npm install --omit=dev in function/);
  });

  it('reuses an earlier install when the dependencies did not change, and installs again when a local dependency did', async () => {
    const images = join(work, 'images-reuse');
    const files = (answer: string, greeting: string) => ({
      'fn/handler.js': `module.exports = async () => require("greeting")() + " ${answer}";\n`,
      'fn/package.json': '{"name":"fn","dependencies":{"greeting":"file:./greeting"}}',
      'fn/greeting/package.json': '{"name":"greeting","version":"1.0.0","main":"index.js"}',
      'fn/greeting/index.js': `module.exports = () => "${greeting}";\n`,
    });
    const build = async (request: BuildRequest) => {
      const lines: string[] = [];
      await new LocalBuilder(images, join(work, 'npm-cache')).build(request, (line) => lines.push(line), new AbortController().signal);
      const folder = join(images, request.contextDigest.replace(':', '-'), 'context', 'function');
      return { log: lines.join('\n'), greeting: readFileSync(join(folder, 'node_modules', 'greeting', 'index.js'), 'utf8') };
    };
    const first = await build(await request(files('v1', 'hello')));
    expect(first.log).not.toMatch(/reused/);
    const second = await build(await request(files('v2', 'hello')));
    expect(second.log).toMatch(
      /npm install --omit=dev in function: the same dependencies were installed before \([0-9a-f]{12}\), node_modules reused/,
    );
    expect(second.greeting).toBe('module.exports = () => "hello";\n');
    const third = await build(await request(files('v2', 'bonjour')));
    expect(third.log).not.toMatch(/reused/);
    expect(third.greeting).toBe('module.exports = () => "bonjour";\n');
  });

  it('runs no install scripts of a handler’s dependencies', async () => {
    const built = await request({
      'fn/handler.js': 'x',
      'fn/package.json': '{"name":"fn","dependencies":{"evil":"file:./evil"}}',
      'fn/evil/package.json':
        '{"name":"evil","version":"1.0.0","scripts":{"postinstall":"node -e \\"require(\'fs\').writeFileSync(\'/tmp/faasline-pwned\', String(process.env.PATH))\\""}}',
    });
    rmSync('/tmp/faasline-pwned', { force: true });
    await new LocalBuilder(join(work, 'images'), join(work, 'npm-cache')).build(built, () => undefined, new AbortController().signal);
    expect(existsSync('/tmp/faasline-pwned')).toBe(false);
  });

  it('refuses lang dockerfile: that needs BuildKit', async () =>
    expect(
      new LocalBuilder(join(work, 'images'), join(work, 'npm-cache')).build(
        await request({ 'fn/Dockerfile': 'FROM x\n' }, 'dockerfile'),
        () => undefined,
        new AbortController().signal,
      ),
    ).rejects.toThrow(/needs BuildKit/));
});
