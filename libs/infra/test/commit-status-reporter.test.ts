import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { anonymousCredentials, CommitStatusReporter, staticTokenCredentials } from '#infra';
import { startFakeGitHub, type FakeGitHub } from '../../../test/support/fake-github.js';

let github: FakeGitHub;
const status = (description = 'deployed') => ({
  owner: 'alexellis',
  repo: 'fns',
  sha: 'a'.repeat(40),
  installationId: 7,
  context: 'stack-deploy',
  state: 'success' as const,
  description,
  targetUrl: 'http://gw/function/alexellis-fn1',
});

beforeAll(async () => {
  github = await startFakeGitHub({ appId: '1', appPublicKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, installations: [], tokens: ['ghp_ok'] });
});
afterAll(() => github.close());

describe('commit status reporter', () => {
  it('creates a status with GitHub’s body', async () => {
    expect(await new CommitStatusReporter(staticTokenCredentials('ghp_ok'), github.url).report(status())).toEqual({ delivered: true, detail: 'created' });
    expect(github.statuses.at(-1)).toEqual({ owner: 'alexellis', repo: 'fns', sha: 'a'.repeat(40), state: 'success', context: 'stack-deploy', description: 'deployed', targetUrl: 'http://gw/function/alexellis-fn1' });
  });

  it('retries server errors with backoff', async () => {
    github.failStatuses(502, 503);
    const before = github.statuses.length;
    expect(await new CommitStatusReporter(staticTokenCredentials('ghp_ok'), github.url, 4, 10).report(status('after retries'))).toMatchObject({ delivered: true });
    expect(github.statuses.length).toBe(before + 1);
  });

  it('never retries a 4xx, and says why', async () => {
    github.failStatuses(500);
    const tooLong = await new CommitStatusReporter(staticTokenCredentials('ghp_ok'), github.url, 4, 10).report(status('x'.repeat(141)));
    expect(tooLong).toMatchObject({ delivered: false, detail: expect.stringMatching(/422.*description is too long/) });
    const refused = await new CommitStatusReporter(staticTokenCredentials('ghp_wrong'), github.url, 4, 10).report(status());
    expect(refused).toMatchObject({ delivered: false, detail: expect.stringMatching(/401/) });
  });

  it('records only, without credentials', async () =>
    expect(await new CommitStatusReporter(anonymousCredentials, github.url).report(status())).toEqual({ delivered: false, detail: 'no GitHub credentials configured: recorded only' }));
});
