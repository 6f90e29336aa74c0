import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { DataSource } from 'typeorm';
import { BuildFailure, BuildKitBuilder, openDataSource } from '#infra';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { startAuthRegistry, type AuthRegistry } from '../../../test/support/auth-registry.js';
import { buildRequestFor, packageHandler } from '../../../test/support/build-context.js';
import { startFakeBuildKit, type FakeBuildKit } from '../../../test/support/fake-buildkit.js';
import { startFakeGateway, type FakeGateway } from '../../../test/support/fake-openfaas.js';
import { gitFixtures, writeTemplates, type GitFixtures, type RepoFiles } from '../../../test/support/git-repos.js';
import { freePort } from '../../../test/support/free-port.js';
import { start, pushEnv, gatewayEnv, deliverCommit } from './support/spawn-api.js';

const secret = 'buildkit-session-webhook-secret';
const adminToken = `admin-${randomBytes(12).toString('hex')}`;
const user = 'faasline-ci';
const password = `pw-${randomBytes(12).toString('hex')}`;
const wrongPassword = `wrong-${randomBytes(12).toString('hex')}`;
const base64Auth = (secretText: string) => Buffer.from(`${user}:${secretText}`).toString('base64');

const files = (text: string): RepoFiles => ({
  'stack.yml': 'provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: node20\n    handler: ./fn1\n    image: fn1:0.1\n',
  'fn1/handler.js': `module.exports = async () => ${JSON.stringify(text)};\n`,
});

type StoredEvent = { type: string; data: Record<string, unknown> };

/**
 * The production builder path end to end: the api opens a BuildKit session, lends the context over FileSync and
 * the registry credentials of REGISTRY_AUTH_FILE over Auth; the registry is Debian's docker-registry requiring
 * them (htpasswd). PUBLIC_URL points at a tripwire, so a context fetched over HTTP would be seen.
 */
describe('the pipeline with BuildKit over a session, pushing to a registry that requires credentials', () => {
  let database: TestDatabase;
  let db: DataSource;
  let git: GitFixtures;
  let registry: AuthRegistry;
  let buildkit: FakeBuildKit;
  let gateway: FakeGateway;
  let tripwire: Server;
  const tripped: string[] = [];
  let dataDir: string;
  let templatesDir: string;
  let authFile: string;
  let api: { child: ChildProcess; url: string; output: () => string };

  /** A Docker config.json as `docker login` writes it; the key in its https:// form, as docker spells it. */
  const writeAuthFile = (secretText: string) =>
    writeFileSync(authFile, JSON.stringify({ auths: { [`https://${registry.host}`]: { auth: base64Auth(secretText) } } }), { mode: 0o600 });

  beforeAll(async () => {
    database = await provisionTestDatabase();
    db = await openDataSource(database.url);
    git = await gitFixtures();
    registry = startAuthRegistry(user, password, await freePort());
    buildkit = await startFakeBuildKit({ registryUrl: registry.url });
    gateway = await startFakeGateway();
    tripwire = createHttpServer((req, res) => {
      tripped.push(req.url ?? '');
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => tripwire.listen(0, '127.0.0.1', resolve));
    dataDir = mkdtempSync(join(tmpdir(), 'faasline-buildkit-session-'));
    templatesDir = writeTemplates(['node20']);
    authFile = join(dataDir, 'registry-config.json');
    writeAuthFile(password);
    api = await start({
      ...pushEnv(database, dataDir, git, secret),
      PUBLIC_URL: `http://127.0.0.1:${(tripwire.address() as AddressInfo).port}`,
      ADMIN_TOKEN: adminToken,
      TEMPLATES_DIR: templatesDir,
      REGISTRY: registry.host,
      REGISTRY_AUTH_FILE: authFile,
      BUILDKIT_ADDR: buildkit.address,
      ...gatewayEnv(gateway),
    });
  });

  afterAll(async () => {
    api?.child.kill('SIGKILL');
    await git?.close();
    await buildkit?.close();
    await gateway?.close();
    await new Promise((resolve) => tripwire?.close(resolve));
    registry?.stop();
    await db?.destroy();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(templatesDir, { recursive: true, force: true });
  });

  const push = async (repoFiles: RepoFiles) => {
    const sha = git.commit('alexellis', 'bks', repoFiles);
    const deliveryId = await deliverCommit(api.url, secret, git, { owner: 'alexellis', repo: 'bks', sha });
    return { sha, deliveryId };
  };
  const events = (deliveryId: string): Promise<StoredEvent[]> =>
    db.query(`SELECT type, data FROM events WHERE correlation_id = $1 ORDER BY global_position`, [deliveryId]);
  const settled = async (deliveryId: string) => {
    await eventually(
      async () =>
        (await events(deliveryId)).some(
          (e) => e.type === 'CommitStatusReported' && e.data.context === 'stack-deploy' && e.data.state !== 'pending',
        ),
      60_000,
      'the push to settle',
    );
    return events(deliveryId);
  };
  const manifest = (tag: string, authorization?: string) =>
    fetch(`${registry.url}/v2/alexellis/bks-fn1/manifests/${tag}`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json', ...(authorization ? { authorization } : {}) },
    });
  const asAdmin = async (path: string) => (await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } })).text();

  let succeeded: { sha: string; deliveryId: string };
  let failed: { sha: string; deliveryId: string };

  it('pushes with the credentials of REGISTRY_AUTH_FILE, lent over the session; the context travels over it too, never over HTTP', async () => {
    succeeded = await push(files('session'));
    const recorded = await settled(succeeded.deliveryId);
    expect(recorded.map((e) => e.type)).toEqual(expect.arrayContaining(['BuildStarted', 'BuildSucceeded', 'FunctionDeployed']));
    const tag = `0.1-master-${succeeded.sha.slice(0, 7)}`;
    const image = `${registry.host}/alexellis/bks-fn1:${tag}`;
    const solve = buildkit.solves.find((s) => s.image === image)!;
    expect(solve.session).toMatch(/^[0-9a-f]{32}$/);
    expect(solve.frontendAttrs).not.toHaveProperty('context');
    expect(solve.contextFiles).toEqual(expect.arrayContaining(['Dockerfile', 'function/handler.js']));
    expect(buildkit.credentialRequests).toContain(registry.host);
    // Neither the daemon nor anyone else asked the api for a context over HTTP.
    expect(buildkit.contextFetches).toEqual([]);
    expect(tripped.filter((url) => url.startsWith('/internal/build-contexts'))).toEqual([]);
    // The image is in the registry, readable with the credentials and only with them.
    expect((await manifest(tag, `Basic ${base64Auth(password)}`)).status).toBe(200);
    expect((await manifest(tag)).status).toBe(401);
    expect(gateway.functions.get('alexellis-fn1')!.image).toBe(image);
  });

  it('fails the build with the registry’s own message when the credentials are wrong (the file is read again per build)', async () => {
    writeAuthFile(wrongPassword);
    try {
      failed = await push(files('wrong credentials'));
      const recorded = await settled(failed.deliveryId);
      const buildFailed = recorded.find((e) => e.type === 'BuildFailed')!;
      expect(buildFailed.data.reason).toMatch(/401 Unauthorized: UNAUTHORIZED: authentication required/);
      expect(buildFailed.data.logTail).toMatch(/ERROR: failed to push .*401 Unauthorized: UNAUTHORIZED: authentication required/);
      expect(recorded.map((e) => e.type)).not.toContain('FunctionDeployed');
      expect((await manifest(`0.1-master-${failed.sha.slice(0, 7)}`, `Basic ${base64Auth(password)}`)).status).toBe(404);
    } finally {
      writeAuthFile(password);
    }
  });

  it('fails a push with no credentials to lend (no REGISTRY_AUTH_FILE: Auth is not served) with the registry’s message', async () => {
    const repo = mkdtempSync(join(dataDir, 'repo-'));
    mkdirSync(join(repo, 'fn'));
    writeFileSync(join(repo, 'fn/handler.js'), 'module.exports = async () => "anonymous";\n');
    const context = await packageHandler({ repoDir: repo, templateRoot: templatesDir, cacheDir: dataDir });
    const image = `${registry.host}/alexellis/bks-fn1:anonymous`;
    const lines: string[] = [];
    const build = new BuildKitBuilder(buildkit.address).build(
      // The context goes over the session; the URL is there for the port's shape only and answers nothing.
      buildRequestFor(context, {
        buildId: 'anonymous',
        owner: 'alexellis',
        name: 'alexellis-fn1',
        image,
        contextUrl: 'http://127.0.0.1:9/unused',
      }),
      (line) => lines.push(line),
      new AbortController().signal,
    );
    await expect(build).rejects.toThrow(BuildFailure);
    await expect(build).rejects.toThrow(/401 Unauthorized: UNAUTHORIZED: authentication required/);
    expect(lines.join('\n')).toMatch(/^#\d+ ERROR: failed to push .*: 401 Unauthorized: UNAUTHORIZED: authentication required$/m);
    // The daemon asked the session; the session had no Auth to answer with, so the push went anonymous.
    expect(buildkit.solves.find((s) => s.image === image)!.session).not.toBe('');
  });

  it('lets no credential reach a log, an event, an API answer or a status', async () => {
    const secrets = [password, wrongPassword, base64Auth(password), base64Auth(wrongPassword)];
    const builds: { build_id: string; log: string }[] = await db.query(`SELECT build_id, log FROM build_logs`);
    expect(builds.length).toBeGreaterThanOrEqual(2);
    const [{ text: allEvents }] = (await db.query(`SELECT string_agg(type || ' ' || data::text, E'\n') AS text FROM events`)) as {
      text: string;
    }[];
    const answers = [
      await asAdmin('/api/v1/functions'),
      await asAdmin('/api/v1/functions/alexellis-fn1'),
      await asAdmin('/api/v1/functions/alexellis-fn1/builds'),
      await asAdmin(`/api/v1/deliveries/${succeeded.deliveryId}/events`),
      await asAdmin(`/api/v1/deliveries/${failed.deliveryId}/events`),
      ...(await Promise.all(builds.map((build) => asAdmin(`/api/v1/builds/${build.build_id}`)))),
      ...(await Promise.all(builds.map((build) => asAdmin(`/api/v1/builds/${build.build_id}/log`)))),
    ];
    // What was looked at is real: the failed build's log and its answers carry the registry's refusal.
    expect(builds.map((build) => build.log).join('\n')).toMatch(/authentication required/);
    expect(answers.join('\n')).toMatch(/authentication required/);
    const statuses = JSON.stringify(gateway.functions.get('alexellis-fn1'));
    for (const [where, text] of Object.entries({
      'the api output': api.output(),
      'the events': allEvents,
      'the build logs': builds.map((build) => build.log).join('\n'),
      'the API answers': answers.join('\n'),
      'the deployed function': statuses,
    }))
      for (const credential of secrets) expect({ where, leaked: text.includes(credential) }).toEqual({ where, leaked: false });
  });
});
