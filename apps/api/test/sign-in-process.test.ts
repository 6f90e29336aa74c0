import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeGitHubOAuth, type FakeGitHubOAuth } from '../../../test/support/fake-github-oauth.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { apiAddress, Browser } from './support/signed-in-api.js';
import { bareEnv, main, root, start, stop } from './support/spawn-api.js';

const CLIENT_ID = 'Iv23liSpawned';
const CLIENT_SECRET = 'spawned-client-secret-0a1b2c3d';

describe('the api as npm start runs it, signing someone in', () => {
  let github: FakeGitHubOAuth;
  let database: TestDatabase;
  let dataDir: string;
  let api: { child: ChildProcess; url: string; output: () => string };

  beforeAll(async () => {
    const address = await apiAddress();
    github = await startFakeGitHubOAuth({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      callbackUrl: `${address.url}/auth/callback`,
      users: [{ login: 'Dev', id: 101, orgs: ['acme'] }],
    });
    database = await provisionTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'faasline-sign-in-process-'));
    api = await start(
      {
        ...bareEnv(),
        DATA_DIR: dataDir,
        DATABASE_URL: database.url,
        PORT: String(address.port),
        GITHUB_CLIENT_ID: CLIENT_ID,
        GITHUB_CLIENT_SECRET: CLIENT_SECRET,
        GITHUB_URL: github.url,
        GITHUB_API_URL: github.apiUrl,
      },
      { keepPort: true },
    );
  }, 120_000);

  afterAll(async () => {
    if (api) await stop(api.child);
    await github?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('says how people sign in, and writes none of the secrets of a sign-in to its output', async () => {
    const browser = new Browser();
    const login = await browser.get(`${api.url}/auth/login`);
    const back = await browser.get(login.headers.get('location')!);
    const callback = new URL(back.headers.get('location')!);
    expect((await browser.get(callback.toString())).status).toBe(302);
    const me = await browser.get(`${api.url}/api/v1/me`);
    expect(await me.json()).toMatchObject({ login: 'Dev', owners: ['Dev', 'acme'] });

    const output = api.output();
    expect(output).toContain(`sign-in: GitHub OAuth at ${github.url} (client ${CLIENT_ID}, callback ${api.url}/auth/callback)`);
    expect(output).toContain('Dev signed in');
    for (const secret of [
      CLIENT_SECRET,
      browser.cookies.get('faasline_session')!.value,
      callback.searchParams.get('code')!,
      callback.searchParams.get('state')!,
      ...github.issuedTokens,
      github.tokenRequests.at(-1)!.codeVerifier!,
    ])
      expect(output).not.toContain(secret);
  });
});

describe('GITHUB_CLIENT_SECRET_FILE', () => {
  it('stops the start with one line when it cannot be read', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'faasline-secret-file-'));
    try {
      const result = spawnSync(process.execPath, [main], {
        cwd: root,
        env: { ...bareEnv(), DATA_DIR: dataDir, GITHUB_CLIENT_ID: CLIENT_ID, GITHUB_CLIENT_SECRET_FILE: join(dataDir, 'missing') },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.status).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^faasline: configuration error: GITHUB_CLIENT_SECRET_FILE: cannot read .*missing: ENOENT/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
