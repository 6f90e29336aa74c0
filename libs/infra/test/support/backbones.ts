import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { openBackbone, silentLogger, type Backbone, type CheckpointedHandler, type Config, type Logger } from '#infra';
import { provisionTestDatabase, type TestDatabase } from './test-database.js';

export type LogMode = Readonly<{ name: string; kafka: () => Config['kafka'] }>;

/** The two adapters of the event log port; every contract test runs against both. */
export const logModes: readonly LogMode[] = [
  { name: 'embedded log (events table)', kafka: () => null },
  {
    name: 'kafka log (outbox relay)',
    kafka: () => {
      const brokers = process.env.KAFKA_BROKERS;
      if (!brokers) throw new Error('KAFKA_BROKERS is not set: run the suite with npm test, which starts Kafka');
      return { brokers: brokers.split(','), topic: `faasline.test.${randomUUID()}`, partitions: 6, replicationFactor: 1 };
    },
  },
];

export type TestBackbone = Backbone & Readonly<{ database: TestDatabase; kafka: Config['kafka'] }>;

export async function openTestBackbone(mode: LogMode, logger: Logger = silentLogger, kafka = mode.kafka()): Promise<TestBackbone> {
  const database = await provisionTestDatabase();
  const backbone = await openBackbone({ databaseUrl: database.url, dataDir: '/nonexistent', kafka }, logger, { poolSize: 20 });
  return {
    ...backbone,
    database,
    kafka,
    close: async () => {
      await backbone.close();
      await database.drop();
    },
  };
}

/** Effects table for subscriber tests: one row per application of an event, in application order. */
export async function createAppliedTable(db: DataSource): Promise<void> {
  await db.query(`CREATE TABLE applied (
    seq bigserial PRIMARY KEY, subscriber text NOT NULL, event_id uuid NOT NULL, stream_id text NOT NULL,
    version integer NOT NULL, position bigint NOT NULL)`);
}

/** Records each event it applies as one row of `applied`, inside the subscriber's transaction. */
export const recordApplied =
  (subscriber: string): CheckpointedHandler =>
  async (events, tx) => {
    for (const applied of events) {
      await tx.query(`INSERT INTO applied (subscriber, event_id, stream_id, version, position) VALUES ($1, $2, $3, $4, $5)`, [
        subscriber,
        applied.metadata.eventId,
        applied.metadata.streamId,
        applied.metadata.streamVersion,
        applied.metadata.globalPosition,
      ]);
    }
  };

export type AppliedSummary = Readonly<{ total: number; distinct: number; outOfOrderStreams: number }>;

export async function summariseApplied(db: DataSource, subscriber: string): Promise<AppliedSummary> {
  const [row] = await db.query(
    `WITH ordered AS (
       SELECT stream_id, version, row_number() OVER (PARTITION BY stream_id ORDER BY seq) AS nth
         FROM applied WHERE subscriber = $1)
     SELECT (SELECT count(*) FROM applied WHERE subscriber = $1)::int AS total,
            (SELECT count(DISTINCT event_id) FROM applied WHERE subscriber = $1)::int AS distinct,
            (SELECT count(DISTINCT stream_id) FROM ordered WHERE version <> nth)::int AS "outOfOrderStreams"`,
    [subscriber],
  );
  return row;
}

export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const systemMetadata = { correlationId: 'test', causationId: 'test', actor: 'system:test' } as const;
