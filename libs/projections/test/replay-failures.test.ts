import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { upcast, type UpcastFn } from '#domain';
import { silentLogger, type Subscription } from '#infra';
import { writeSyntheticHistory } from '../../../scripts/synthetic-history.js';
import { eventually, logModes, openTestBackbone, type TestBackbone } from '../../../libs/infra/test/support/backbones.js';
import { readModelChecksum, ReadModelReplayer, shadowTables } from '../src/index.js';
import { readModelsProjection } from '../src/read-models.projection.js';

const EVENTS = 3_000;
const FAIL_AT = 1_500;

describe.each(logModes)('a read-model replay that fails ($name)', (mode) => {
  let backbone: TestBackbone;
  let subscription: Subscription;
  const logMode = () => (backbone.kafka ? 'kafka' : 'embedded');
  const write = (count: number, seed: string) =>
    writeSyntheticHistory(backbone.database.url, count, { seed, outbox: backbone.kafka !== null });
  const audited = async () => (await backbone.db.query(`SELECT count(*)::int AS n FROM read_audit`))[0].n as number;

  beforeAll(async () => {
    backbone = await openTestBackbone(mode);
    await backbone.log.start();
    subscription = await backbone.log.subscribe(readModelsProjection.name, readModelsProjection.handle, readModelsProjection.options);
    await write(EVENTS, 'before-failure');
    await eventually(async () => (await audited()) === EVENTS, 120_000, 'the live projection to apply every event');
  }, 180_000);
  afterAll(async () => {
    await subscription?.close();
    await backbone?.close();
  });

  it('midway: drops its shadow tables, leaves the live read models as they were and serving, and releases the lock', async () => {
    const live = await readModelChecksum(backbone.db, 'live');
    let read = 0;
    // The bulk load reads every event through the upcaster: failing there is failing midway through the load.
    const failing: UpcastFn = (event) => {
      read += 1;
      if (read === FAIL_AT) throw new Error(`storage failed at event ${FAIL_AT}`);
      return upcast(event);
    };
    const report = await new ReadModelReplayer(backbone.db, logMode(), silentLogger, failing).replay('admin:test');
    expect(read).toBe(FAIL_AT);
    expect(report).toMatchObject({
      status: 'failed',
      error: `storage failed at event ${FAIL_AT}`,
      checksumAfter: null,
      finishedAt: expect.any(String),
    });

    const leftOver = await backbone.db.query(`SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NOT NULL`, [
      Object.values(shadowTables),
    ]);
    expect(leftOver).toEqual([]);
    expect(await readModelChecksum(backbone.db, 'live')).toBe(live);
    expect(await audited()).toBe(EVENTS);

    // Still the tables the live projection writes to: new events keep arriving in them.
    const head = await write(200, 'after-failure');
    await eventually(async () => (await audited()) === head, 60_000, 'events after the failed replay to be projected');

    // The lock went with the failure: the next replay runs, and finds the live read models right.
    const again = await new ReadModelReplayer(backbone.db, logMode(), silentLogger).replay('admin:test');
    expect(again).toMatchObject({ status: 'done', eventsProcessed: head });
    expect(again.checksumAfter).toBe(again.checksumBefore);
  }, 180_000);

  it('marks a run a dead process left "running" as interrupted when the next one starts, and only that run', async () => {
    // What a process killed mid-replay leaves: its row still running; its lock went with its connection.
    const dead = randomUUID();
    await backbone.db.query(`INSERT INTO read_model_replays (id, status, actor, events_total) VALUES ($1, 'running', 'admin:dead', 10)`, [
      dead,
    ]);
    const replayer = new ReadModelReplayer(backbone.db, logMode(), silentLogger);
    const next = await replayer.replay('admin:test');
    expect(next.status).toBe('done');
    expect(await replayer.report(dead)).toMatchObject({ status: 'failed', error: 'interrupted', finishedAt: expect.any(String) });
    const running = await backbone.db.query(`SELECT id FROM read_model_replays WHERE status = 'running'`);
    expect(running).toEqual([]);
    expect(
      (await backbone.db.query(`SELECT status FROM read_model_replays ORDER BY started_at`)).map((row: { status: string }) => row.status),
    ).toEqual(['failed', 'done', 'failed', 'done']);
  }, 120_000);
});
