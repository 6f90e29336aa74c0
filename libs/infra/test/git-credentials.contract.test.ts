import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anonymousCredentials, fetchCommit, FetchFailed, githubAppCredentials, staticTokenCredentials, type GitCredentials } from '#infra';
import { startFakeGitHub, type FakeGitHub } from '../../../test/support/fake-github.js';
import { gitFixtures, type GitFixtures } from '../../../test/support/git-repos.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const appKey = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

let github: FakeGitHub;
let work: string;
const servers: GitFixtures[] = [];

beforeAll(async () => {
  github = await startFakeGitHub({
    appId: '12345',
    appPublicKey: publicKey,
    installations: [
      { id: 7, account: 'alexellis' },
      { id: 8, account: 'alexellis' },
    ],
  });
  work = mkdtempSync(join(tmpdir(), 'faasline-credentials-'));
});
afterAll(async () => {
  await github.close();
  for (const server of servers) await server.close();
  rmSync(work, { recursive: true, force: true });
});

type Adapter = Readonly<{ name: string; credentials: () => GitCredentials; grants: boolean; serverToken: (issued: string) => string }>;

const adapters: Adapter[] = [
  { name: 'anonymous', credentials: () => anonymousCredentials, grants: false, serverToken: () => 'unused' },
  { name: 'GITHUB_TOKEN', credentials: () => staticTokenCredentials('ghp_static'), grants: true, serverToken: () => 'ghp_static' },
  {
    name: 'GitHub App',
    credentials: () => githubAppCredentials({ appId: '12345', privateKey: appKey, apiUrl: github.url }),
    grants: true,
    serverToken: (issued) => issued,
  },
];

describe.each(adapters)('git credentials port: $name', (adapter) => {
  it('gives a token that reads a private repository over HTTP, or none', async () => {
    const credentials = adapter.credentials();
    const token = await credentials.tokenFor(7);
    expect(token === null).toBe(!adapter.grants);
    const git = await gitFixtures({ token: adapter.serverToken(token ?? '') });
    servers.push(git);
    const sha = git.commit('alexellis', 'private', { 'stack.yml': 'provider: {name: openfaas}\n' });
    const fetch = fetchCommit({
      url: git.cloneUrl('alexellis', 'private'),
      sha,
      dir: join(work, `${adapter.name}-${sha}`),
      token,
      limits: { timeoutMs: 20_000, maxFiles: 100, maxBytes: 1e6 },
    });
    if (adapter.grants) await expect(fetch).resolves.toBeUndefined();
    else await expect(fetch).rejects.toThrow(FetchFailed);
  });
});

describe('GitHub App credentials', () => {
  it('signs a JWT for the App, buys one token per installation and reuses it', async () => {
    const credentials = githubAppCredentials({ appId: '12345', privateKey: appKey, apiUrl: github.url });
    const first = await credentials.tokenFor(8);
    expect(await credentials.tokenFor(8)).toBe(first);
    expect(github.issued.get(8)).toEqual([first]);
    expect(await credentials.tokenFor(null)).toBeNull();
  });

  it('fails for an installation GitHub does not know, and with a key that is not the App’s', async () => {
    await expect(githubAppCredentials({ appId: '12345', privateKey: appKey, apiUrl: github.url }).tokenFor(999)).rejects.toThrow(
      /Not Found/,
    );
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    await expect(githubAppCredentials({ appId: '12345', privateKey: other, apiUrl: github.url }).tokenFor(7)).rejects.toThrow(
      /could not be decoded/,
    );
  });
});
