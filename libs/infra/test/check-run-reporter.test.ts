import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { anonymousCredentials, CheckRunReporter, githubAppCredentials, staticTokenCredentials, type CheckRunReport } from '#infra';
import { startFakeGitHub, type FakeGitHub } from '../../../test/support/fake-github.js';

let github: FakeGitHub;
const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKey = app.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const sha = 'a'.repeat(40);

const run = (fields: Partial<CheckRunReport> = {}): CheckRunReport => ({
  owner: 'alexellis',
  repo: 'fns',
  sha,
  installationId: 7,
  externalId: 'delivery-1',
  name: 'faasline',
  status: 'in_progress',
  startedAt: '2026-12-01T08:00:00Z',
  completedAt: null,
  conclusion: null,
  title: 'Building',
  summary: 'reading the stack file',
  annotations: [],
  detailsUrl: null,
  ...fields,
});

const appReporter = () => new CheckRunReporter(githubAppCredentials({ appId: '1', privateKey, apiUrl: github.url }), github.url, 1, 1);

/** A request to the fake's Checks API as the App's installation 7 would send it. */
async function send(method: 'POST' | 'PATCH', path: string, body: unknown, token?: string) {
  const bearer = token ?? (await githubAppCredentials({ appId: '1', privateKey, apiUrl: github.url }).tokenFor(7));
  const response = await fetch(`${github.url}/repos/alexellis/fns/check-runs${path}`, {
    method,
    headers: { authorization: `token ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { message?: string; id?: number } };
}

const valid = { name: 'faasline', head_sha: sha, status: 'in_progress', output: { title: 't', summary: 's' } };

beforeAll(async () => {
  github = await startFakeGitHub({
    appId: '1',
    appPublicKey: app.publicKey,
    installations: [{ id: 7, account: 'alexellis', repositories: ['alexellis/fns'] }],
    tokens: { ghp_ok: ['alexellis/fns'] },
  });
});
afterAll(() => github.close());

describe('check run reporter', () => {
  it('creates a check run in progress, then completes the same one with its annotations', async () => {
    const reporter = appReporter();
    const created = await reporter.report(run(), null);
    expect(created).toMatchObject({ delivered: true, detail: 'created' });
    const completed = await reporter.report(
      run({
        status: 'completed',
        conclusion: 'failure',
        completedAt: '2026-12-01T08:01:00Z',
        title: '1 of 1 function(s) failed: alexellis-web',
        summary: '| alexellis-web | failed |',
        annotations: [
          { path: 'stack.yml', startLine: 1, endLine: 1, level: 'failure', title: 'alexellis-web', message: 'build failed: exit 1' },
        ],
        detailsUrl: 'http://faasline.example/api/v1/builds/b/log',
      }),
      created.checkRunId,
    );
    expect(completed).toEqual({ delivered: true, checkRunId: created.checkRunId, detail: 'updated' });
    const stored = github.checkRuns.find((candidate) => candidate.id === created.checkRunId)!;
    expect(stored).toMatchObject({
      headSha: sha,
      name: 'faasline',
      status: 'completed',
      conclusion: 'failure',
      externalId: 'delivery-1',
      detailsUrl: 'http://faasline.example/api/v1/builds/b/log',
      history: ['in_progress', 'completed'],
      output: { title: '1 of 1 function(s) failed: alexellis-web', summary: '| alexellis-web | failed |' },
    });
    expect(stored.annotations).toEqual([
      {
        path: 'stack.yml',
        start_line: 1,
        end_line: 1,
        annotation_level: 'failure',
        title: 'alexellis-web',
        message: 'build failed: exit 1',
      },
    ]);
  });

  it('finds the check run of a delivery GitHub already has instead of creating a second one', async () => {
    const reporter = appReporter();
    const created = await reporter.report(run({ externalId: 'delivery-crashed' }), null);
    const count = github.checkRuns.length;
    const completed = run({
      externalId: 'delivery-crashed',
      status: 'completed',
      conclusion: 'success',
      completedAt: '2026-12-01T08:01:00Z',
    });
    expect(await reporter.report(completed, null, undefined, true)).toEqual({
      delivered: true,
      checkRunId: created.checkRunId,
      detail: 'updated',
    });
    expect(github.checkRuns.length).toBe(count);
    expect(await reporter.report(run({ externalId: 'delivery-new' }), null, undefined, true)).toMatchObject({ detail: 'created' });
    expect(github.checkRuns.length).toBe(count + 1);
  });

  it('sends nothing without a GitHub App: the Checks API refuses other tokens', async () => {
    const before = github.checkRunRequests.length;
    for (const credentials of [staticTokenCredentials('ghp_ok'), anonymousCredentials]) {
      const reporter = new CheckRunReporter(credentials, github.url);
      expect(reporter.enabled).toBe(false);
      expect(await reporter.report(run(), null)).toEqual({
        delivered: false,
        checkRunId: null,
        detail: 'check runs need a GitHub App: recorded only',
      });
    }
    expect(github.checkRunRequests.length).toBe(before);
  });

  it('reports a refusal without retrying it', async () => {
    const before = github.checkRunRequests.length;
    const outcome = await appReporter().report(run({ status: 'completed', conclusion: null }), null);
    expect(outcome.delivered).toBe(false);
    expect(outcome.detail).toMatch(/^GitHub answered 422/);
    expect(github.checkRunRequests.slice(before).map((request) => request.status)).toEqual([422]);
  });
});

describe('the fake GitHub keeps the Checks API contract', () => {
  it('accepts a well-formed check run', async () => expect((await send('POST', '', valid)).status).toBe(201));

  it('refuses a personal or GITHUB_TOKEN-like token with 403', async () =>
    expect(await send('POST', '', valid, 'ghp_ok')).toEqual({
      status: 403,
      body: expect.objectContaining({ message: 'You must authenticate via a GitHub App.' }),
    }));

  it.each([
    ['no name', { ...valid, name: undefined }],
    ['no head_sha', { ...valid, head_sha: undefined }],
    ['a status outside the enum', { ...valid, status: 'done' }],
    ['a conclusion outside the enum', { ...valid, status: 'completed', conclusion: 'ok' }],
    ['completed without a conclusion', { ...valid, status: 'completed' }],
    ['completed_at without a conclusion', { ...valid, completed_at: '2026-12-01T08:00:00Z' }],
    ['a started_at that is not ISO 8601', { ...valid, started_at: 'yesterday' }],
    ['an output without a summary', { ...valid, output: { title: 't' } }],
    ['an output without a title', { ...valid, output: { summary: 's' } }],
    ['a summary over 65535 characters', { ...valid, output: { title: 't', summary: 'x'.repeat(65536) } }],
    [
      '51 annotations',
      {
        ...valid,
        output: {
          title: 't',
          summary: 's',
          annotations: Array.from({ length: 51 }, () => ({
            path: 'stack.yml',
            start_line: 1,
            end_line: 1,
            annotation_level: 'failure',
            message: 'm',
          })),
        },
      },
    ],
    [
      'an annotation without a message',
      {
        ...valid,
        output: { title: 't', summary: 's', annotations: [{ path: 'stack.yml', start_line: 1, end_line: 1, annotation_level: 'failure' }] },
      },
    ],
    [
      'an annotation level outside the enum',
      {
        ...valid,
        output: {
          title: 't',
          summary: 's',
          annotations: [{ path: 'stack.yml', start_line: 1, end_line: 1, annotation_level: 'error', message: 'm' }],
        },
      },
    ],
    [
      'an annotation without a path',
      {
        ...valid,
        output: { title: 't', summary: 's', annotations: [{ start_line: 1, end_line: 1, annotation_level: 'failure', message: 'm' }] },
      },
    ],
  ])('refuses %s with 422', async (_what, body) => {
    const before = github.checkRuns.length;
    expect((await send('POST', '', body)).status).toBe(422);
    expect(github.checkRuns.length).toBe(before);
  });

  it('completes a run when only a conclusion is given, and refuses to update one it does not have', async () => {
    const { body } = await send('POST', '', valid);
    expect((await send('PATCH', `/${body.id}`, { conclusion: 'success' })).status).toBe(200);
    expect(github.checkRuns.find((candidate) => candidate.id === body.id)).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect((await send('PATCH', '/999999', { conclusion: 'success' })).status).toBe(404);
  });
});
