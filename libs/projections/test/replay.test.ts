import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { silentLogger, type Subscription } from '#infra';
import { writeSyntheticHistory } from '../../../scripts/synthetic-history.js';
import { eventually, logModes, openTestBackbone, type TestBackbone } from '../../../libs/infra/test/support/backbones.js';
import { readModelChecksum, ReadModelReplayer, READ_MODELS_SUBSCRIBER, ReplayAlreadyRunning } from '../src/index.js';
import { readModelsProjection } from '../src/read-models.projection.js';

const caughtUp = (backbone: TestBackbone, head: number) => async () => {
  const [row] = await backbone.db.query(`SELECT position FROM subscription_checkpoints WHERE subscriber = $1`, [READ_MODELS_SUBSCRIBER]);
  return Number(row?.position ?? 0) >= head;
};

/** What a reader of the API sees: if any of these ever shrinks mid-replay, it saw partial state. */
async function visible(backbone: TestBackbone) {
  const [row] = await backbone.db.query(`SELECT
      (SELECT count(*) FROM read_functions)::int AS functions,
      (SELECT count(*) FROM read_builds)::int AS builds,
      (SELECT count(*) FROM read_pushes WHERE seq IS NOT NULL)::int AS pushes,
      (SELECT count(*) FROM read_audit)::int AS audit`);
  return row as { functions: number; builds: number; pushes: number; audit: number };
}

describe('read models: projection and replay (embedded log)', () => {
  let backbone: TestBackbone;
  let subscription: Subscription;
  const EVENTS = 100_000;

  beforeAll(async () => {
    backbone = await openTestBackbone(logModes[0]!);
    await writeSyntheticHistory(backbone.database.url, EVENTS);
    subscription = await backbone.log.subscribe(readModelsProjection.name, readModelsProjection.handle, {
      ...readModelsProjection.options,
      batchSize: 2000,
    });
    await eventually(caughtUp(backbone, EVENTS), 120_000, 'the live projection to catch up');
  }, 180_000);
  afterAll(async () => {
    await subscription.close();
    await backbone.close();
  });

  it('projects functions, builds, pushes and the audit trail, reading v1 events through the upcaster', async () => {
    const counts = await visible(backbone);
    expect(counts.audit).toBe(EVENTS);
    const [deployed] = await backbone.db.query(`SELECT * FROM read_functions WHERE status = 'ready' ORDER BY name LIMIT 1`);
    expect(deployed).toMatchObject({
      status: 'ready',
      endpoint: expect.stringContaining('/function/'),
      image: expect.stringMatching(/^local\//),
    });
    const statuses = await backbone.db.query(`SELECT status, count(*)::int AS n FROM read_builds GROUP BY status ORDER BY status`);
    expect(statuses.map((row: { status: string }) => row.status)).toEqual(['failed', 'reused', 'succeeded']);
    const [upcast] = await backbone.db.query(
      `SELECT count(*)::int AS v1, count(builder)::int AS v2 FROM read_builds WHERE status = 'succeeded'`,
    );
    expect(upcast.v2).toBeGreaterThan(0);
    expect(upcast.v2).toBeLessThan(upcast.v1); // stored v1 events read as builder: null
    const outcomes = await backbone.db.query(`SELECT outcome, count(*)::int AS n FROM read_pushes GROUP BY outcome ORDER BY outcome`);
    expect(outcomes.map((row: { outcome: string }) => row.outcome)).toEqual(expect.arrayContaining(['deployed', 'failed', 'ignored']));
  });

  it('files each event in the audit trail under its owner and repository, lower-cased, installations under the account', async () => {
    const metadata = { correlationId: 'audit-case', causationId: 'delivery-audit', actor: 'github:AlexEllis' } as const;
    const { lastPosition } = await backbone.store.append(
      `installation-${Date.now()}`,
      0,
      [
        { type: 'InstallationCreated', data: { installationId: 7, account: 'OpenFaaS', accountId: 3, repositories: [] } },
        { type: 'RepositoryAdded', data: { installationId: 7, owner: 'AlexEllis', repo: 'Fns', repositoryId: 2, private: false } },
      ],
      metadata,
    );
    await eventually(caughtUp(backbone, lastPosition), 30_000, 'the new events to be projected');
    const rows = await backbone.db.query(
      `SELECT type, owner, repo, actor, correlation_id, causation_id FROM read_audit WHERE correlation_id = 'audit-case' ORDER BY position`,
    );
    expect(rows).toEqual([
      {
        type: 'InstallationCreated',
        owner: 'openfaas',
        repo: null,
        actor: 'github:AlexEllis',
        correlation_id: 'audit-case',
        causation_id: 'delivery-audit',
      },
      {
        type: 'RepositoryAdded',
        owner: 'alexellis',
        repo: 'fns',
        actor: 'github:AlexEllis',
        correlation_id: 'audit-case',
        causation_id: 'delivery-audit',
      },
    ]);
  });

  it('replays 100,000 events into shadow tables and swaps them in with an equal checksum, queries answering throughout', async () => {
    const full = await visible(backbone);
    const before = await readModelChecksum(backbone.db, 'live');
    const replayer = new ReadModelReplayer(backbone.db, 'embedded', silentLogger);
    let queries = 0;
    let replaying = true;
    const reader = (async () => {
      while (replaying) {
        const seen = await visible(backbone); // a failed query rejects this loop and the test
        expect(seen).toEqual(full);
        queries++;
      }
    })();
    const report = await replayer.replay('admin:test');
    replaying = false;
    await reader;
    expect(report).toMatchObject({ status: 'done', eventsProcessed: await backbone.store.headPosition(), error: null });
    expect(report.checksumAfter).toBe(report.checksumBefore);
    expect(report.checksumBefore).toBe(before);
    expect(await readModelChecksum(backbone.db, 'live')).toBe(before);
    expect(queries).toBeGreaterThan(5);
    const tables = await backbone.db.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'read_%_shadow'`);
    expect(tables).toEqual([]);
    const indexes = await backbone.db.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'read_builds' ORDER BY 1`);
    expect(indexes.map((row: { indexname: string }) => row.indexname)).toEqual(['read_builds_function', 'read_builds_pkey']);
  }, 180_000);

  it('gives the same rows when the bulk load writes rows out and reads them back all the time', async () => {
    const report = await new ReadModelReplayer(backbone.db, 'embedded', silentLogger, undefined, 16).replay('admin:test');
    expect(report.status).toBe('done');
    expect(report.checksumAfter).toBe(report.checksumBefore);
  }, 180_000);

  it('keeps projecting new events after a swap, and refuses a second replay while one runs', async () => {
    const replayer = new ReadModelReplayer(backbone.db, 'embedded', silentLogger);
    const id = await replayer.start('admin:test');
    await expect(replayer.start('admin:test')).rejects.toBeInstanceOf(ReplayAlreadyRunning);
    const head = await writeSyntheticHistory(backbone.database.url, 3_000, { seed: 'later' });
    await eventually(async () => (await replayer.report(id))?.status !== 'running', 120_000, 'the replay to end');
    expect((await replayer.report(id))!.status).toBe('done');
    await eventually(caughtUp(backbone, head), 60_000, 'the live projection to catch up after the swap');
    expect((await visible(backbone)).audit).toBe(head);
    const again = await replayer.replay('admin:test');
    expect(again.checksumAfter).toBe(again.checksumBefore);
    expect(again.eventsProcessed).toBe(head);
  }, 180_000);
});

describe('read models: projection and replay (kafka log)', () => {
  let backbone: TestBackbone;
  let subscription: Subscription;
  const EVENTS = 5_000;

  beforeAll(async () => {
    backbone = await openTestBackbone(logModes[1]!);
    await backbone.log.start();
    subscription = await backbone.log.subscribe(readModelsProjection.name, readModelsProjection.handle, readModelsProjection.options);
    await writeSyntheticHistory(backbone.database.url, EVENTS, { outbox: true });
    await eventually(async () => (await visible(backbone)).audit === EVENTS, 120_000, 'the Kafka projection to apply every event');
  }, 180_000);
  afterAll(async () => {
    await subscription.close();
    await backbone.close();
  });

  it('gives the same read models from Kafka as a replay from the store, and carries on after the swap', async () => {
    const report = await new ReadModelReplayer(backbone.db, 'kafka', silentLogger).replay('admin:test');
    expect(report).toMatchObject({ status: 'done', eventsProcessed: EVENTS });
    expect(report.checksumAfter).toBe(report.checksumBefore);
    const head = await writeSyntheticHistory(backbone.database.url, 500, { seed: 'after-swap', outbox: true });
    await eventually(async () => (await visible(backbone)).audit === head, 60_000, 'events after the swap to be projected');
    const again = await new ReadModelReplayer(backbone.db, 'kafka', silentLogger).replay('admin:test');
    expect(again.checksumAfter).toBe(again.checksumBefore);
  }, 180_000);
});
