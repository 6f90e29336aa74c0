import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BuildLog, BuildLogStore, loadConfig, openBackbone, silentLogger, type Backbone, type Config } from '#infra';
import { createApi } from '../src/api-app.js';
import { Links } from '../src/links/signed-links.js';
import { LINKS } from '../src/tokens.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';

const WEBHOOK_SECRET = 'the webhook secret';
const LINKS_SECRET = 'the links secret';
const ADMIN = 'admin-token';
const digest = `sha256:${'a'.repeat(64)}`;

let database: TestDatabase;
let backbone: Backbone;
let app: NestFastifyApplication;
let config: Config;
let url: string;
let dataDir: string;

beforeAll(async () => {
  database = await provisionTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'faasline-links-'));
  config = loadConfig({ DATABASE_URL: database.url, DATA_DIR: dataDir, LINK_TTL: '2' });
  backbone = await openBackbone(config, silentLogger);
  app = await createApi(backbone, config, silentLogger, {
    withProjector: false,
    withPipeline: false,
    webhookSecret: WEBHOOK_SECRET,
    adminToken: ADMIN,
    gatewayPassword: 'pw',
    linksSecret: LINKS_SECRET,
  });
  await app.listen(0, '127.0.0.1');
  url = await app.getUrl();
  const logs = new BuildLogStore(backbone.db);
  for (const build of ['a', 'b']) {
    const log = new BuildLog();
    log.push(`log of build ${build}`);
    await logs.save(`build-${build}`, log);
  }
});

afterAll(async () => {
  await app?.close();
  await backbone?.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The links carry PUBLIC_URL's origin; the app listens on a free port, so only the origin is swapped. */
const local = (link: string) => {
  const parsed = new URL(link);
  return `${url}${parsed.pathname}${parsed.search}`;
};
const open = async (link: string, headers: Record<string, string> = {}) => {
  const response = await fetch(local(link), { headers });
  const text = await response.text();
  return {
    status: response.status,
    text,
    message: response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as { message: string }).message : undefined,
  };
};
const appLinks = () => app.get<Links>(LINKS);
const logLink = (key: string, buildId: string, now = Date.now()) =>
  Links.fromSecret(key, config.publicUrl, config.gatewayPublicUrl, 60_000).buildLog(buildId, now);

describe('build log links', () => {
  it('open the log of the build they name', async () => {
    const link = appLinks().buildLog('build-a');
    expect(link).toMatch(/\/api\/v1\/builds\/build-a\/log\?expires=\d+&token=[\w-]+$/);
    expect(await open(link)).toMatchObject({ status: 200, text: 'log of build a\n' });
  });

  it('never open another build’s log', async () => {
    const link = appLinks().buildLog('build-a').replace('/builds/build-a/', '/builds/build-b/');
    expect(await open(link)).toMatchObject({ status: 403, message: 'this token does not open this build log' });
  });

  it('refuse a forged token, and a real one whose expiry was moved', async () => {
    const link = appLinks().buildLog('build-a');
    expect(await open(link.replace(/token=[^&]+/, `token=${'A'.repeat(43)}`))).toMatchObject({
      status: 403,
      message: 'this token does not open this build log',
    });
    const later = Number(/expires=(\d+)/.exec(link)![1]) + 3600;
    expect(await open(link.replace(/expires=\d+/, `expires=${later}`))).toMatchObject({
      status: 403,
      message: 'this token does not open this build log',
    });
    expect(await open(link.replace(/expires=\d+&/, ''))).toMatchObject({ status: 403 });
  });

  it('are keyed by LINKS_SECRET alone: a link signed with the webhook secret, old or new style, opens nothing', async () => {
    // How links were signed before LINKS_SECRET: keyed by the webhook secret, no expiry.
    const oldKey = createHmac('sha256', WEBHOOK_SECRET).update('faasline links v1').digest();
    const oldToken = createHmac('sha256', oldKey).update('log:build-a').digest('base64url');
    expect(await open(`${url}/api/v1/builds/build-a/log?token=${oldToken}`)).toMatchObject({
      status: 403,
      message: 'this token does not open this build log',
    });
    expect(await open(logLink(WEBHOOK_SECRET, 'build-a'))).toMatchObject({
      status: 403,
      message: 'this token does not open this build log',
    });
    expect(await open(logLink(LINKS_SECRET, 'build-a'))).toMatchObject({ status: 200 });
  });

  it('expire after LINK_TTL with a message saying so; an admin token still opens the log', async () => {
    const fresh = appLinks().buildLog('build-a');
    expect((await open(fresh)).status).toBe(200);
    expect(Number(/expires=(\d+)/.exec(fresh)![1]) * 1000 - Date.now()).toBeLessThanOrEqual(2000);
    // Issued one LINK_TTL and a second ago rather than waited for: the clock of the test never races the link's.
    const issuedAt = Date.now() - 3000;
    const link = appLinks().buildLog('build-a', issuedAt);
    const expires = Number(/expires=(\d+)/.exec(link)![1]);
    expect(expires).toBe(Math.floor((issuedAt + 2000) / 1000));
    const expired = await open(link);
    expect(expired).toMatchObject({
      status: 403,
      message: `this build log link expired at ${new Date(expires * 1000).toISOString()}; an admin token still opens the log`,
    });
    expect(await open(link, { authorization: `Bearer ${ADMIN}` })).toMatchObject({ status: 200, text: 'log of build a\n' });
  });

  it('ask for a token or an admin token when given neither', async () =>
    expect(await open(`${url}/api/v1/builds/build-a/log`)).toMatchObject({ status: 401 }));
});

describe('build context links', () => {
  const contextUrl = (ttlMs: number, now = Date.now()) => appLinks().buildContext(digest, ttlMs, now);

  it('are accepted for the digest they name until their short expiry', async () => {
    // The token is good: the answer is the store's (no such context), not the link check's.
    expect(await open(contextUrl(60_000))).toMatchObject({ status: 404, message: `no build context ${digest}` });
  });

  it('never open another digest, and refuse forged or expired tokens', async () => {
    const other = `sha256:${'b'.repeat(64)}`;
    expect(await open(contextUrl(60_000).replace(digest, other))).toMatchObject({
      status: 403,
      message: 'missing or wrong build context token',
    });
    expect(await open(contextUrl(60_000).replace(/token=[^&]+/, 'token=forged'))).toMatchObject({
      status: 403,
      message: 'missing or wrong build context token',
    });
    const stale = contextUrl(60_000, Date.now() - 120_000);
    const expires = Number(/expires=(\d+)/.exec(stale)![1]);
    expect(await open(stale)).toMatchObject({
      status: 403,
      message: `this build context link expired at ${new Date(expires * 1000).toISOString()}`,
    });
  });
});
