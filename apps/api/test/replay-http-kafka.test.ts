import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { writeSyntheticHistory } from '../../../scripts/synthetic-history.js';
import { eventually, logModes } from '../../../libs/infra/test/support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { bareEnv, start, stop } from './support/spawn-api.js';

const ADMIN_TOKEN = `admin-${randomUUID()}`;
const EVENTS = 5_000;

/** replay-cli.test.ts drives the replay over HTTP on the embedded log; this is the same on the Kafka log. */
describe('POST /api/v1/admin/replay on the Kafka log', () => {
  const dataDir = join(tmpdir(), `faasline-replay-kafka-${randomUUID()}`);
  const kafka = logModes[1]!.kafka()!;
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof start>>;
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const functions = async () => (await (await fetch(`${app.url}/api/v1/functions?limit=100`)).json()) as unknown;

  beforeAll(async () => {
    database = await provisionTestDatabase();
    app = await start({
      ...bareEnv(),
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      ADMIN_TOKEN,
      OPENFAAS_URL: 'http://127.0.0.1:9',
      FAASLINE_PIPELINE: 'separate',
      KAFKA_BROKERS: kafka.brokers.join(','),
      KAFKA_TOPIC: kafka.topic,
    });
    await writeSyntheticHistory(database.url, EVENTS, { outbox: true });
    // On Kafka the lag gauge compares positions, which partitions reach out of order: wait instead until every
    // stream's newest event is the version the read models last applied.
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      await eventually(
        async () => {
          const { rows } = await db.query(
            `SELECT count(*)::int AS behind FROM (SELECT stream_id, max(stream_version) AS version FROM events GROUP BY stream_id) e
               LEFT JOIN subscription_streams s ON s.subscriber = 'projector:read-models' AND s.stream_id = e.stream_id
              WHERE s.version IS NULL OR s.version < e.version`,
          );
          return rows[0].behind === 0;
        },
        120_000,
        'the read models to apply every stream',
      );
    } finally {
      await db.end();
    }
  }, 180_000);
  afterAll(async () => {
    if (app) await stop(app.child);
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 202 with an id, ends done with equal checksums, and the read routes answer the same after the swap', async () => {
    const before = await functions();
    const started = await fetch(`${app.url}/api/v1/admin/replay`, { method: 'POST', headers: admin });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    let report: Record<string, unknown> = {};
    await eventually(
      async () => {
        report = (await (await fetch(`${app.url}/api/v1/admin/replay/${id}`, { headers: admin })).json()) as Record<string, unknown>;
        return report.status !== 'running';
      },
      120_000,
      'the replay to finish',
    );
    expect(report).toMatchObject({ id, status: 'done', eventsProcessed: EVENTS, error: null });
    expect(report.checksumAfter).toBe(report.checksumBefore);
    expect(await functions()).toEqual(before);
  }, 150_000);
});
