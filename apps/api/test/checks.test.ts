import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { eventually, logModes } from '../../../libs/infra/test/support/backbones.js';
import type { RecordedCheckRun } from '../../../test/support/fake-github.js';
import type { RepoFiles } from '../../../test/support/git-repos.js';
import { checkRunRerequestedPayload, deliverEvent } from '../../../test/support/github-payloads.js';
import { APP_ID, lastStatus, pushCommit, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';

const secret = 'checks-webhook-secret';

const stack = (functions: Record<string, string>) =>
  `provider:\n  name: openfaas\nfunctions:\n${Object.entries(functions)
    .map(([fn, lang]) => `  ${fn}:\n    lang: ${lang}\n    handler: ./${fn}\n    image: alexellis2/${fn}:0.1\n`)
    .join('')}`;
const handler = (fn: string, text: string) => ({ [`${fn}/handler.js`]: `module.exports = async () => ${JSON.stringify(text)};\n` });
const good: RepoFiles = { 'stack.yml': stack({ fn1: 'node20' }), ...handler('fn1', 'one') };
// `lang: dockerfile` needs BuildKit, which this world does not have: its build fails with a reason and a log.
const failing: RepoFiles = {
  'stack.yml': stack({ fn1: 'node20', web: 'dockerfile' }),
  ...handler('fn1', 'one'),
  'web/Dockerfile': 'FROM scratch\n',
};

type StoredEvent = { type: string; data: Record<string, unknown>; actor: string };

describe.each(logModes)('GitHub Checks beside commit statuses, as a GitHub App ($name)', (mode) => {
  let world: PipelineWorld;
  let db: DataSource;
  const kafka = mode.kafka();

  beforeAll(async () => {
    world = await startPipelineWorld(secret, kafka, { ENABLE_DOCKERFILE_LANG: 'true' });
    db = await openDataSource(world.database.url);
  });
  afterAll(async () => {
    await db?.destroy();
    await world?.close();
  });

  /** The check run created for a delivery (its external id), once it completed. */
  const completedRun = async (deliveryId: string): Promise<RecordedCheckRun> => {
    const find = () => world.github.checkRuns.find((run) => run.externalId === deliveryId && run.status === 'completed');
    await eventually(async () => find() !== undefined, 60_000, `the check run of ${deliveryId} completed`);
    return find()!;
  };
  const events = (deliveryId: string): Promise<StoredEvent[]> =>
    db.query(`SELECT type, data, actor FROM events WHERE correlation_id = $1 ORDER BY global_position`, [deliveryId]);
  const rerequest = (fields: { sha: string; checkRunId: number; appId?: number }, deliveryId = randomUUID()) =>
    deliverEvent(
      world.api.url,
      secret,
      'check_run',
      checkRunRerequestedPayload({
        owner: 'alexellis',
        repo: 'fns',
        cloneUrl: world.git.cloneUrl('alexellis', 'fns'),
        appId: Number(APP_ID),
        ...fields,
      }),
      deliveryId,
    );

  let goodPush: { sha: string; deliveryId: string };
  let failingPush: { sha: string; deliveryId: string };
  let failedRun: RecordedCheckRun;

  it('completes a good push’s check run with success and a summary, and still reports every status', async () => {
    goodPush = await pushCommit(world, secret, good);
    const run = await completedRun(goodPush.deliveryId);
    expect(run).toMatchObject({
      headSha: goodPush.sha,
      name: 'faasline',
      conclusion: 'success',
      history: ['in_progress', 'completed'],
      output: { title: '1 function(s) deployed' },
      annotations: [],
    });
    expect(run.output.summary).toContain('| alexellis-fn1 | deployed |');
    await eventually(async () => lastStatus(world, goodPush.sha, 'stack-deploy')?.state === 'success', 30_000, 'stack-deploy success');
    expect(lastStatus(world, goodPush.sha, 'alexellis-fn1')).toMatchObject({ state: 'success' });
    const reported = (await events(goodPush.deliveryId)).filter((event) => event.type === 'CheckRunReported');
    expect(reported.map((event) => [event.data.status, event.data.delivered, event.data.checkRunId])).toEqual([
      ['in_progress', true, run.id],
      ['completed', true, run.id],
    ]);
  });

  it('fails a push with a failing function, annotating it with the reason and showing the end of its build log', async () => {
    failingPush = await pushCommit(world, secret, failing);
    failedRun = await completedRun(failingPush.deliveryId);
    expect(failedRun).toMatchObject({ conclusion: 'failure', output: { title: '1 of 2 function(s) failed: alexellis-web' } });
    expect(failedRun.annotations).toEqual([
      {
        // The `web:` key's line in the stack file the test pushed.
        path: 'stack.yml',
        start_line: 8,
        end_line: 8,
        annotation_level: 'failure',
        title: 'alexellis-web',
        message: expect.stringMatching(/^build failed: lang dockerfile needs BuildKit/),
      },
    ]);
    expect(failedRun.output.summary).toMatch(/\| alexellis-web \| failed \|/);
    expect(failedRun.output.summary).toContain('### alexellis-web: last lines of the build log');
    expect(failedRun.output.summary).not.toMatch(/\/tmp\/|faasline-pipeline-/);
    expect(failedRun.detailsUrl).toMatch(/\/api\/v1\/builds\/[^/]+\/log\?/);
  });

  it('re-runs the push when its check run’s re-run button is pressed: a new delivery, a new check run', async () => {
    const { deliveryId, status } = await rerequest({ sha: failingPush.sha, checkRunId: failedRun.id });
    expect(status).toBe(202);
    const again = await completedRun(deliveryId);
    expect(again.id).not.toBe(failedRun.id);
    expect(again).toMatchObject({ headSha: failingPush.sha, conclusion: 'failure', history: ['in_progress', 'completed'] });
    const recorded = await events(deliveryId);
    expect(recorded[0]).toMatchObject({ type: 'PushReceived', actor: 'github:octocat', data: { sha: failingPush.sha, pusher: 'octocat' } });
    expect(recorded.some((event) => event.type === 'BuildFailed' && event.data.name === 'alexellis-web')).toBe(true);
  });

  it('re-runs a check run once: the same request under another delivery id records nothing', async () => {
    const replayed = await rerequest({ sha: failingPush.sha, checkRunId: failedRun.id });
    expect(replayed).toMatchObject({ status: 200, answer: { status: 'duplicate' } });
    expect(await events(replayed.deliveryId)).toEqual([]);
  });

  it('ignores a check run another App created, and an older commit than the branch’s newest, recording why', async () => {
    const foreign = await rerequest({ sha: failingPush.sha, checkRunId: 1, appId: 2 });
    expect(foreign.status).toBe(202);
    expect(await events(foreign.deliveryId)).toMatchObject([
      { type: 'PushIgnored', data: { reason: 're-run of check run 1 ignored: it was created by GitHub App 2, not by this one' } },
    ]);
    const goodRun = world.github.checkRuns.find((run) => run.externalId === goodPush.deliveryId)!;
    const older = await rerequest({ sha: goodPush.sha, checkRunId: goodRun.id });
    expect(await events(older.deliveryId)).toMatchObject([
      {
        type: 'PushIgnored',
        data: { reason: `re-run of ${goodPush.sha.slice(0, 7)} ignored: ${failingPush.sha.slice(0, 7)} is the newest push on master` },
      },
    ]);
  });

  it('answers the check_run deliveries of its own check runs (created, completed) as changing nothing', async () => {
    const created = JSON.parse(
      checkRunRerequestedPayload({ owner: 'alexellis', repo: 'fns', sha: goodPush.sha, cloneUrl: 'x', checkRunId: 9, appId: 1 }),
    );
    created.action = 'created';
    const answer = await deliverEvent(world.api.url, secret, 'check_run', JSON.stringify(created));
    expect(answer).toMatchObject({ status: 200, answer: { status: 'ignored', reason: 'check_run created changes nothing here' } });
  });
});

describe('GitHub Checks with GITHUB_TOKEN instead of an App', () => {
  let world: PipelineWorld;

  beforeAll(async () => {
    world = await startPipelineWorld(secret, null, {}, { auth: 'token' });
  });
  afterAll(() => world?.close());

  it('creates no check run and reports the commit statuses as before', async () => {
    const { sha } = await pushCommit(world, secret, good);
    await eventually(async () => lastStatus(world, sha, 'stack-deploy')?.state === 'success', 60_000, 'stack-deploy success');
    expect(lastStatus(world, sha, 'alexellis-fn1')).toMatchObject({ state: 'success' });
    expect(world.github.checkRuns).toEqual([]);
    expect(world.github.checkRunRequests).toEqual([]);
  });
});
