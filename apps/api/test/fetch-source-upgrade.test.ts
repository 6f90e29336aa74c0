import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fairShareGroup, ownerShare, STACK_CONTEXT, streamIds, type Event, type PushReceived, type RecordedEvent } from '#domain';
import { enqueueSteps, openDataSource } from '#infra';
import { logModes, openTestBackbone, eventually, type TestBackbone } from '../../../libs/infra/test/support/backbones.js';
import { startFakeGateway, type FakeGateway } from '../../../test/support/fake-openfaas.js';
import { gitFixtures, writeTemplates, type GitFixtures } from '../../../test/support/git-repos.js';
import { pushData } from '../../../libs/domain/src/spec-fixtures.js';
import { causeOf } from '../src/pipeline/pipeline-step.js';
import { bareEnv, start } from './support/spawn-api.js';

const MIGRATION = 'FetchSourceByWorkflow1764748800000';
const OLD_SUBSCRIBER = 'pipeline.fetch-source';
const PROCESS_MANAGER = 'pipeline.process';

type Pushed = RecordedEvent<PushReceived>;
type Pushes = Readonly<{ a1: Pushed; b1: Pushed; a2: Pushed; b2: Pushed; a3: Pushed }>;
type Job = { id: string; payload: unknown; fair_group: string | null; done: boolean };
/** Where each subscriber stood at the upgrade, as the log it ran on records it. */
type Layout = Readonly<{
  name: string;
  checkpoints: (pushes: Pushes) => { oldSubscriber: Checkpoint; processManager: Checkpoint };
  expected: (pushes: Pushes) => Pushed[];
}>;
type Checkpoint = Readonly<{ position: number; streams?: Readonly<Record<string, number>> }>;

const position = (event: RecordedEvent<Event>) => event.metadata.globalPosition;
const version = (event: RecordedEvent<Event>) => event.metadata.streamVersion;
const jobId = (push: Pushed) => `fetch-source:${push.metadata.eventId}`;
/** A job as the process manager enqueues it now. */
const newJob = (push: Pushed) => {
  const command = { type: 'FetchSource' as const, push: push.data };
  return { id: jobId(push), payload: { command, cause: causeOf(push) }, fair_group: fairShareGroup(command) };
};

const layouts: readonly Layout[] = [
  {
    // One global position each; the pushes between the two were passed by the process manager and never enqueued.
    name: 'embedded log',
    checkpoints: ({ b1, b2 }) => ({ oldSubscriber: { position: position(b1) }, processManager: { position: position(b2) } }),
    expected: ({ a2, b2 }) => [a2, b2],
  },
  {
    // Per stream: the old subscriber was ahead on alexellis/fns and had not started bob/fns, whose first push sits
    // below its highest position; the process manager had passed both of bob's pushes.
    name: 'kafka log',
    checkpoints: ({ a2, b1, b2 }) => ({
      oldSubscriber: { position: position(a2), streams: { [a2.metadata.streamId]: version(a2) } },
      processManager: { position: position(b2), streams: { [a2.metadata.streamId]: version(a2) - 1, [b1.metadata.streamId]: version(b2) } },
    }),
    expected: ({ b1, b2 }) => [b1, b2],
  },
];

describe('upgrading to fetches decided by the pipeline workflow', () => {
  let backbone: TestBackbone | null = null;
  afterEach(async () => {
    await backbone?.close();
    backbone = null;
  });

  const pushReceived = (owner: string, sha: string, cloneUrl: string): Event => ({
    type: 'PushReceived',
    data: pushData(sha, {
      deliveryId: `delivery-${sha}`,
      owner,
      cloneUrl,
      installationId: null,
      pusher: owner,
      receivedAt: new Date().toISOString(),
    }),
  });

  /**
   * What the old code left: five pushes to two repositories (alexellis's first already fetched), a job of the old
   * shape for each push the old subscriber had passed (the first one done), and the two checkpoints of `layout`.
   */
  async function installedByOldCode(
    store: TestBackbone,
    layout: Layout,
    commit: (owner: string) => { sha: string; cloneUrl: string },
  ): Promise<Pushes> {
    const push = async (owner: string) => {
      const { sha, cloneUrl } = commit(owner);
      const event = pushReceived(owner, sha, cloneUrl);
      const metadata = { correlationId: `delivery-${sha}`, causationId: `delivery-${sha}`, actor: 'system:test' } as const;
      return (await store.store.append(streamIds.repository(owner, 'fns'), 'any', [event], metadata)).events[0] as Pushed;
    };
    const a1 = await push('alexellis');
    const { owner, repo, branch, sha, deliveryId } = a1.data;
    await store.store.append(
      streamIds.repository(owner, repo),
      'any',
      [{ type: 'SourceRejected', data: { deliveryId, owner, repo, branch, sha, reason: 'fetched by the old code' } }],
      {
        correlationId: a1.metadata.correlationId,
        causationId: a1.metadata.eventId,
        actor: 'system:source',
        idempotencyKey: jobId(a1),
      },
    );
    const b1 = await push('bob');
    const a2 = await push('alexellis');
    const b2 = await push('bob');
    const a3 = await push('alexellis');
    const pushes = { a1, b1, a2, b2, a3 };

    const { oldSubscriber, processManager } = layout.checkpoints(pushes);
    const passedByOld = Object.values(pushes).filter((event) =>
      oldSubscriber.streams
        ? version(event) <= (oldSubscriber.streams[event.metadata.streamId] ?? 0)
        : position(event) <= oldSubscriber.position,
    );
    await store.db.transaction(async (tx) => {
      // Exactly what the old subscriber wrote: the recorded event as payload, grouped by owner.
      await enqueueSteps(
        tx,
        'fetch-source',
        passedByOld.map((event) => ({ id: jobId(event), payload: event, group: ownerShare(event.data.owner) })),
      );
      await tx.query(`UPDATE pipeline_jobs SET done_at = now() WHERE id = $1`, [jobId(a1)]);
      for (const [subscriber, checkpoint] of [
        [OLD_SUBSCRIBER, oldSubscriber],
        [PROCESS_MANAGER, processManager],
      ] as const) {
        await tx.query(`INSERT INTO subscription_checkpoints (subscriber, position) VALUES ($1, $2)`, [subscriber, checkpoint.position]);
        for (const [stream, streamVersion] of Object.entries(checkpoint.streams ?? {})) {
          await tx.query(`INSERT INTO subscription_streams (subscriber, stream_id, version) VALUES ($1, $2, $3)`, [
            subscriber,
            stream,
            streamVersion,
          ]);
        }
      }
      // The database is as it was before this migration.
      await tx.query(`DELETE FROM migrations WHERE name = $1`, [MIGRATION]);
    });
    return pushes;
  }

  /** `installedByOldCode` with commits of numbered shas that no git server holds (nothing is fetched here). */
  const installedWithoutSource = (store: TestBackbone, layout: Layout) => {
    let commits = 0;
    return installedByOldCode(store, layout, (owner) => ({
      sha: String(++commits).padStart(40, '0'),
      cloneUrl: `https://github.com/${owner}/fns.git`,
    }));
  };

  const jobs = async (db: TestBackbone['db']): Promise<Job[]> =>
    db.query(`SELECT id, payload, fair_group, done_at IS NOT NULL AS done FROM pipeline_jobs WHERE step = 'fetch-source' ORDER BY seq`);

  it.each(layouts)('rewrites the queued jobs and enqueues the pushes only the process manager had passed ($name)', async (layout) => {
    backbone = await openTestBackbone(logModes[0]!);
    const pushes = await installedWithoutSource(backbone, layout);
    const before = await jobs(backbone.db);

    await (await openDataSource(backbone.database.url)).destroy();

    const after = await jobs(backbone.db);
    // The old jobs keep their id, group, place and state, and read as the process manager writes jobs now.
    const pushOf = (job: Job) => Object.values(pushes).find((push) => jobId(push) === job.id)!;
    expect(after.slice(0, before.length)).toEqual(before.map((job) => ({ ...newJob(pushOf(job)), done: job.done })));
    expect(after.slice(0, before.length).map((job) => job.fair_group)).toEqual(before.map((job) => job.fair_group));
    // Then, in log order, a pending job for each push the process manager had passed but the old subscriber had not.
    expect(after.slice(before.length)).toEqual(layout.expected(pushes).map((push) => ({ ...newJob(push), done: false })));
    expect(after.map((job) => job.id)).not.toContain(jobId(pushes.a3));
    expect(await backbone.db.query(`SELECT subscriber FROM subscription_checkpoints ORDER BY subscriber`)).toEqual([
      { subscriber: PROCESS_MANAGER },
    ]);
    expect(await backbone.db.query(`SELECT count(*)::int AS n FROM subscription_streams WHERE subscriber = $1`, [OLD_SUBSCRIBER])).toEqual([
      { n: 0 },
    ]);
  });

  it.each(layouts)('reverts to jobs of the old shape and an old subscriber where the process manager stood ($name)', async (layout) => {
    backbone = await openTestBackbone(logModes[0]!);
    const pushes = await installedWithoutSource(backbone, layout);
    const before = await jobs(backbone.db);
    const db = await openDataSource(backbone.database.url);
    try {
      await db.undoLastMigration({ transaction: 'each' });
    } finally {
      await db.destroy();
    }

    const recorded = (job: Job) => JSON.parse(JSON.stringify(Object.values(pushes).find((push) => jobId(push) === job.id)!)) as unknown;
    const reverted = await jobs(backbone.db);
    expect(reverted.map((job) => job.id)).toEqual([...before.map((job) => job.id), ...layout.expected(pushes).map(jobId)]);
    expect(reverted.map((job) => job.payload)).toEqual(reverted.map(recorded));
    const positions = (subscriber: string) =>
      backbone!.db.query(
        `SELECT position, (SELECT json_object_agg(stream_id, version) FROM subscription_streams WHERE subscriber = $1) AS streams FROM subscription_checkpoints WHERE subscriber = $1`,
        [subscriber],
      );
    expect(await positions(OLD_SUBSCRIBER)).toEqual(await positions(PROCESS_MANAGER));
  });

  describe('then the pipeline runs on it', () => {
    let git: GitFixtures;
    let gateway: FakeGateway;
    let dataDir: string;
    let templatesDir: string;
    let api: Awaited<ReturnType<typeof start>> | null = null;
    beforeAll(async () => {
      git = await gitFixtures();
      gateway = await startFakeGateway();
      dataDir = mkdtempSync(join(tmpdir(), 'faasline-upgrade-'));
      templatesDir = writeTemplates(['node20']);
    });
    afterAll(async () => {
      api?.child.kill('SIGKILL');
      await git?.close();
      await gateway?.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(templatesDir, { recursive: true, force: true });
    });

    it('fetches every push exactly once, the ones the old code left behind included', async () => {
      backbone = await openTestBackbone(logModes[0]!);
      // A function in a language with no template: its source is fetched and the function rejected, nothing is built.
      const stack = `provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: cobol\n    handler: ./fn1\n    image: fn1:0.1\n`;
      let commits = 0;
      const pushes = await installedByOldCode(backbone, layouts[0]!, (owner) => ({
        sha: git.commit(owner, 'fns', { 'stack.yml': stack, 'fn1/handler.js': `module.exports = async () => ${++commits};\n` }),
        cloneUrl: git.cloneUrl(owner, 'fns'),
      }));
      api = await start({
        // Nothing is built or deployed: no registry; the gateway only for what a settled push may ask of it.
        ...bareEnv(),
        OPENFAAS_URL: gateway.url,
        OPENFAAS_USER: gateway.user,
        OPENFAAS_PASSWORD: gateway.password,
        DATABASE_URL: backbone.database.url,
        DATA_DIR: dataDir,
        GIT_ALLOWED_HOSTS: new URL(git.server.url).host,
        TEMPLATES_DIR: templatesDir,
      });
      const results = async () =>
        (await backbone!.db.query(
          `SELECT causation_id, type FROM events WHERE type IN ('SourceFetched', 'SourceRejected') ORDER BY global_position`,
        )) as { causation_id: string; type: string }[];
      const everyJobDone = async () => (await jobs(backbone!.db)).every((job) => job.done);
      // The process manager goes on from each fetch, the left-behind pushes included: their stack status is reported.
      const reported = async () =>
        (
          (await backbone!.db.query(
            `SELECT payload->'command'->>'sha' AS sha FROM pipeline_jobs WHERE step = 'report-status' AND payload->'command'->>'context' = $1`,
            [STACK_CONTEXT],
          )) as { sha: string }[]
        )
          .map((job) => job.sha)
          .sort();
      const fetchedNow = [pushes.b1, pushes.a2, pushes.b2, pushes.a3].map((push) => push.data.sha).sort();
      await eventually(
        async () => (await results()).length >= 5 && (await everyJobDone()) && (await reported()).length >= fetchedNow.length,
        60_000,
        'a fetch result for each push',
      );

      const all = Object.values(pushes);
      expect((await results()).map((result) => result.causation_id).sort()).toEqual(all.map((push) => push.metadata.eventId).sort());
      expect((await results()).filter((result) => result.type === 'SourceFetched')).toHaveLength(4);
      expect((await jobs(backbone.db)).map((job) => job.id).sort()).toEqual(all.map(jobId).sort());
      // The push the old code had fetched is not reported again; the others are, once each.
      expect(await reported()).toEqual(fetchedNow);
      api.child.kill('SIGKILL');
      api = null;
    });
  });
});
