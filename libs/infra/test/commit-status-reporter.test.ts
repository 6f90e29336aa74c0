import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { anonymousCredentials, CommitStatusReporter, githubAppCredentials, staticTokenCredentials } from '#infra';
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

const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** The answers GitHub gave to the status requests `report` made. */
const answered = async (report: () => Promise<unknown>) => {
  const before = github.statusRequests.length;
  const outcome = await report();
  return { outcome, answers: github.statusRequests.slice(before).map((request) => request.status) };
};

beforeAll(async () => {
  github = await startFakeGitHub({
    appId: '1',
    appPublicKey: app.publicKey,
    // alexellis installed the App on fns only; alexellis-labs on all its repositories.
    installations: [
      { id: 7, account: 'alexellis', repositories: ['alexellis/fns'] },
      { id: 8, account: 'alexellis-labs' },
    ],
    tokens: { ghp_ok: ['alexellis/fns'] },
  });
});
afterAll(() => github.close());

describe('commit status reporter', () => {
  it('creates a status with GitHub’s body', async () => {
    expect(await new CommitStatusReporter(staticTokenCredentials('ghp_ok'), github.url).report(status())).toEqual({
      delivered: true,
      detail: 'created',
    });
    expect(github.statuses.at(-1)).toEqual({
      owner: 'alexellis',
      repo: 'fns',
      sha: 'a'.repeat(40),
      state: 'success',
      context: 'stack-deploy',
      description: 'deployed',
      targetUrl: 'http://gw/function/alexellis-fn1',
    });
  });

  it('retries server errors with backoff', async () => {
    github.failStatuses(502, 503);
    const before = github.statuses.length;
    const retried = await answered(() =>
      new CommitStatusReporter(staticTokenCredentials('ghp_ok'), github.url, 4, 10).report(status('after retries')),
    );
    expect(retried).toMatchObject({ outcome: { delivered: true }, answers: [502, 503, 201] });
    expect(github.statuses.length).toBe(before + 1);
  });

  it('never retries a 4xx, and says why', async () => {
    github.failStatuses(500);
    const tooLong = await answered(() =>
      new CommitStatusReporter(staticTokenCredentials('ghp_ok'), github.url, 4, 10).report(status('x'.repeat(141))),
    );
    expect(tooLong).toMatchObject({
      outcome: { delivered: false, detail: expect.stringMatching(/422.*description is too long/) },
      answers: [500, 422],
    });
    const refused = await answered(() => new CommitStatusReporter(staticTokenCredentials('ghp_wrong'), github.url, 4, 10).report(status()));
    expect(refused).toMatchObject({ outcome: { delivered: false, detail: expect.stringMatching(/401/) }, answers: [401] });
    const elsewhere = await answered(() =>
      new CommitStatusReporter(staticTokenCredentials('ghp_ok'), github.url, 4, 10).report({ ...status(), repo: 'not-given' }),
    );
    expect(elsewhere).toMatchObject({ outcome: { delivered: false, detail: expect.stringMatching(/404/) }, answers: [404] });
  });

  it('posts with an installation token to the repositories of its installation only', async () => {
    const reporter = new CommitStatusReporter(
      githubAppCredentials({
        appId: '1',
        privateKey: app.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
        apiUrl: github.url,
      }),
      github.url,
      4,
      10,
    );
    expect(await answered(() => reporter.report(status('installed')))).toMatchObject({ outcome: { delivered: true }, answers: [201] });
    expect(await answered(() => reporter.report({ ...status(), repo: 'unselected' }))).toMatchObject({
      outcome: { delivered: false, detail: expect.stringMatching(/403/) },
      answers: [403],
    });
    expect(await answered(() => reporter.report({ ...status(), owner: 'alexellis-labs', repo: 'any' }))).toMatchObject({
      outcome: { delivered: false, detail: expect.stringMatching(/404/) },
      answers: [404],
    });
    expect(await answered(() => reporter.report({ ...status(), owner: 'alexellis-labs', repo: 'any', installationId: 8 }))).toMatchObject({
      outcome: { delivered: true },
      answers: [201],
    });
  });

  it('records only, without credentials', async () =>
    expect(await new CommitStatusReporter(anonymousCredentials, github.url).report(status())).toEqual({
      delivered: false,
      detail: 'no GitHub credentials configured: recorded only',
    }));
});
