import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { deliverPush } from '../../../test/support/github-payloads.js';
import { bareEnv, start, stop } from './support/spawn-api.js';

const secret = 'sandbox-off-secret';

describe('npm start without a sandbox (SANDBOX=off): fail closed', () => {
  let database: TestDatabase;
  let dataDir: string;
  let api: Awaited<ReturnType<typeof start>>;

  beforeAll(async () => {
    database = await provisionTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'faasline-sandbox-off-'));
    api = await start({
      ...bareEnv(),
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      GATEWAY_PORT: '0',
      GITHUB_WEBHOOK_SECRET: secret,
      SANDBOX: 'off',
    });
  }, 90_000);

  afterAll(async () => {
    if (api) await stop(api.child);
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // An ignored push does not say whether its repository is public: only an admin sees it.
  const outcome = async (owner: string, repo: string) => {
    const authorization = `Bearer ${readFileSync(join(dataDir, 'secrets', 'admin-token'), 'utf8').trim()}`;
    const pushes = (await (await fetch(`${api.url}/api/v1/repos/${owner}/${repo}/pushes`, { headers: { authorization } })).json()) as {
      items: { outcome: string; reason: string | null }[];
    };
    return pushes.items[0];
  };

  it('says so at start, and builds only pushes from faasline push on loopback', async () => {
    await eventually(
      async () => /sandbox: off \(SANDBOX=off\): only owners in CUSTOMERS and local faasline push build and run here/.test(api.output()),
      10_000,
      'the start-up line',
    );
    expect(api.output()).not.toContain('pushes from every owner build');

    const remote = await deliverPush(api.url, secret, {
      owner: 'mallory',
      repo: 'escape',
      sha: 'a'.repeat(40),
      cloneUrl: 'https://github.com/mallory/escape.git',
    });
    expect(remote.status).toBe(202);
    await eventually(async () => (await outcome('mallory', 'escape'))?.outcome === 'ignored', 20_000, 'the remote push ignored');
    expect((await outcome('mallory', 'escape'))!.reason).toBe(
      'no sandbox on this server: only owners in CUSTOMERS and local faasline push build',
    );

    // faasline push's own loopback source is trusted: accepted (its fetch may fail here, it is not ignored).
    const local = await deliverPush(api.url, secret, {
      owner: 'me',
      repo: 'hello',
      sha: 'b'.repeat(40),
      cloneUrl: 'http://127.0.0.1:9/me/hello.git',
    });
    expect(local.status).toBe(202);
    await eventually(async () => (await outcome('me', 'hello')) !== undefined, 20_000, 'the local push recorded');
    expect((await outcome('me', 'hello'))!.outcome).not.toBe('ignored');
  }, 60_000);
});
