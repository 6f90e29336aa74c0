import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BuildFailure,
  BuildKitBuilder,
  buildkitChannel,
  ConfigError,
  contextTarball,
  LocalBuilder,
  type Builder,
  type BuildKitTlsFiles,
  type BuildRequest,
} from '#infra';
import { startFakeBuildKit, type FakeBuildKit } from '../../../test/support/fake-buildkit.js';
import { certificateAuthority, type Issued } from '../../../test/support/tls-certs.js';
import { buildRequestFor, packageHandler } from '../../../test/support/build-context.js';
import { writeTemplates } from '../../../test/support/git-repos.js';
import { eventually } from './support/backbones.js';

let work: string;
let templates: string;
let buildkit: FakeBuildKit;
/** A daemon run like buildkitd --tlscacert ca --tlscert server --tlskey server: mutual TLS. */
let tlsBuildkit: FakeBuildKit;
let pki: { ca: Issued; client: Issued; stranger: Issued; otherCa: Issued };
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
  const certs = mkdtempSync(join(work, 'pki-'));
  const ca = certificateAuthority(certs, 'ca');
  const otherCa = certificateAuthority(certs, 'other-ca');
  pki = { ca, client: ca.issue('client', 'DNS:faasline'), stranger: otherCa.issue('stranger', 'DNS:faasline'), otherCa };
  const server = ca.issue('server', 'IP:127.0.0.1,DNS:localhost');
  tlsBuildkit = await startFakeBuildKit({ tls: { ca: ca.cert, cert: server.cert, key: server.key } });
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
  await tlsBuildkit.close();
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
    name: 'BuildKit (fake daemon over the same .proto, the context over the session)',
    builder: () => new BuildKitBuilder(buildkit.address),
    failing: () =>
      request(
        { 'fn/Dockerfile': 'FROM alpine\nRUN echo "compiling fn" && echo "fn.c:1: error: expected a semicolon" >&2 && exit 2\n' },
        'dockerfile',
      ),
    reason:
      /^process "\/bin\/sh -c echo "compiling fn" && echo "fn\.c:1: error: expected a semicolon" >&2 && exit 2" did not complete successfully: exit code: 2$/,
    // #1 to #3 are the frontend's reads of the session's dirs (Dockerfile, .dockerignore, context), #4 FROM.
    logged:
      /^#5 compiling fn\n#5 fn\.c:1: error: expected a semicolon\n#5 ERROR: process "\/bin\/sh -c .*" did not complete successfully: exit code: 2$/m,
  },
  {
    name: 'BuildKit over mutual TLS (BUILDKIT_TLS_CA/CERT/KEY), the context over HTTP (BUILDKIT_CONTEXT=http)',
    builder: () =>
      new BuildKitBuilder(tlsBuildkit.address, undefined, buildkitChannel(tlsFiles()), { context: 'http', registryAuthFile: null }),
    failing: () =>
      request({ 'fn/Dockerfile': 'FROM alpine\nRUN echo "fn.c:1: error: expected a semicolon" >&2 && exit 2\n' }, 'dockerfile'),
    reason:
      /^process "\/bin\/sh -c echo "fn\.c:1: error: expected a semicolon" >&2 && exit 2" did not complete successfully: exit code: 2$/,
    logged: /^#3 fn\.c:1: error: expected a semicolon$/m,
  },
];

/** BUILDKIT_TLS_* as the config reads them: our CA and client certificate unless told otherwise. */
const tlsFiles = (files: Partial<BuildKitTlsFiles> = {}): BuildKitTlsFiles => ({
  caFile: pki.ca.certFile,
  certFile: pki.client.certFile,
  keyFile: pki.client.keyFile,
  serverName: null,
  ...files,
});

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
  it('lends the context over the session: folders before their files, .dockerignore honoured, nothing fetched over HTTP', async () => {
    const fetchesBefore = buildkit.contextFetches.length;
    const built = await new BuildKitBuilder(buildkit.address).build(
      await request(
        {
          'fn/Dockerfile': 'FROM alpine\nCOPY . /app\n',
          'fn/.dockerignore': '# local leftovers\nsecrets\n*.log\n!keep.log\n',
          'fn/src/a/deep.js': 'deep',
          'fn/src/a.js': 'a',
          'fn/src/a-b.js': 'ab',
          'fn/debug.log': 'noise',
          'fn/keep.log': 'kept',
          'fn/secrets/key': 'k',
          // Many 32 KiB DATA packets under HTTP/2 flow control; the fake checks each file's size against its stat.
          'fn/big.bin': 'x'.repeat(3 * 2 ** 20 + 7),
        },
        'dockerfile',
      ),
      () => undefined,
      new AbortController().signal,
    );
    const solve = buildkit.solves.at(-1)!;
    expect(solve).toMatchObject({ image: built.image, session: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(solve.frontendAttrs).toEqual({ filename: 'Dockerfile' });
    expect(solve.contextFiles).toEqual(['.dockerignore', 'Dockerfile', 'big.bin', 'keep.log', 'src/a-b.js', 'src/a.js', 'src/a/deep.js']);
    expect(buildkit.contextFetches.length).toBe(fetchesBefore);
  });

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

describe('BuildKit builder over TLS', () => {
  const build = async (builder: BuildKitBuilder) =>
    builder.build(await request({ 'fn/handler.js': 'tls' }), () => undefined, new AbortController().signal);
  /** Why a build could not reach the daemon, checked to carry no certificate or key material. */
  const refusal = async (builder: BuildKitBuilder) => {
    const solved = tlsBuildkit.solves.length;
    const error = (await build(builder).then(
      () => new Error('the build succeeded'),
      (reason: Error) => reason,
    )) as Error;
    expect(tlsBuildkit.solves.length).toBe(solved);
    // Not the user's build failing: the build step retries it and logs it as the builder's trouble.
    expect(error).not.toBeInstanceOf(BuildFailure);
    for (const secret of [pki.client, pki.stranger, pki.ca])
      for (const line of [...secret.key.toString().split('\n'), ...secret.cert.toString().split('\n')].filter((l) => l.length > 20))
        expect(error.message).not.toContain(line);
    expect(error.message).not.toMatch(/PRIVATE KEY|BEGIN|\n|\(20\d\d-|Resolution note|openssl\//);
    return error.message;
  };
  const daemon = () => tlsBuildkit.address.replace(/[.]/g, '\\.');

  it('refuses a client without a certificate: the daemon asks for one', async () =>
    expect(
      await refusal(new BuildKitBuilder(tlsBuildkit.address, undefined, buildkitChannel(tlsFiles({ certFile: null, keyFile: null })))),
    ).toMatch(new RegExp(`^BuildKit: no connection to ${daemon()} over TLS: tlsv13 alert certificate required \\(TLS: BUILDKIT_TLS_CA`)));

  it('refuses a client certificate another CA signed', async () =>
    expect(
      await refusal(
        new BuildKitBuilder(
          tlsBuildkit.address,
          undefined,
          buildkitChannel(tlsFiles({ certFile: pki.stranger.certFile, keyFile: pki.stranger.keyFile })),
        ),
      ),
    ).toMatch(new RegExp(`^BuildKit: no connection to ${daemon()} over TLS: .+ \\(TLS: BUILDKIT_TLS_CA must have signed`)));

  it('does not trust a daemon whose certificate BUILDKIT_TLS_CA did not sign', async () =>
    expect(
      await refusal(new BuildKitBuilder(tlsBuildkit.address, undefined, buildkitChannel(tlsFiles({ caFile: pki.otherCa.certFile })))),
    ).toMatch(new RegExp(`^BuildKit: no connection to ${daemon()} over TLS: self-signed certificate in certificate chain \\(TLS: `)));

  it('tells a plaintext client of a TLS daemon to set BUILDKIT_TLS_*', async () =>
    expect(await refusal(new BuildKitBuilder(tlsBuildkit.address))).toMatch(
      new RegExp(
        `^BuildKit: no connection to ${daemon()}: .+ \\(if buildkitd runs with --tlscacert, set BUILDKIT_TLS_CA, BUILDKIT_TLS_CERT and BUILDKIT_TLS_KEY\\)$`,
      ),
    ));

  it('checks the daemon certificate for BUILDKIT_TLS_SERVER_NAME instead of the address when it is set', async () => {
    const named = (serverName: string) => new BuildKitBuilder(tlsBuildkit.address, undefined, buildkitChannel(tlsFiles({ serverName })));
    expect((await build(named('localhost'))).digest).toMatch(/^sha256:/);
    expect(await refusal(named('buildkitd.example'))).toMatch(
      new RegExp(
        `^BuildKit: no connection to ${daemon()} over TLS: Hostname/IP does not match certificate's altnames: Host: buildkitd\\.example\\. `,
      ),
    );
  });

  it('stops the start naming the variable and the file when a file cannot be used, never quoting it', () => {
    const problem = (files: Partial<BuildKitTlsFiles>) => {
      try {
        buildkitChannel(tlsFiles(files));
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).not.toMatch(/BEGIN|MII|\n/);
        return (error as Error).message;
      }
      throw new Error('the channel was made');
    };
    const missing = join(work, 'missing.key');
    expect(problem({ keyFile: missing })).toBe(`BUILDKIT_TLS_KEY: cannot read ${missing} (ENOENT)`);
    expect(problem({ caFile: work })).toBe(`BUILDKIT_TLS_CA: cannot read ${work} (EISDIR)`);
    expect(problem({ certFile: pki.client.keyFile })).toBe(`BUILDKIT_TLS_CERT: ${pki.client.keyFile} is not a PEM certificate`);
    expect(problem({ keyFile: pki.client.certFile })).toBe(`BUILDKIT_TLS_KEY: ${pki.client.certFile} is not a PEM private key`);
    expect(problem({ keyFile: pki.stranger.keyFile })).toMatch(
      new RegExp(
        `^BUILDKIT_TLS_KEY: ${pki.stranger.keyFile} does not go with BUILDKIT_TLS_CERT ${pki.client.certFile}: .*key values mismatch`,
      ),
    );
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
