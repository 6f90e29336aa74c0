import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The write side. `global_position` is assigned by the appender under a transaction-scoped advisory lock, so
 * positions are gapless and in commit order: a reader that has seen position N has seen everything before it.
 */
export class EventStore1764057600000 implements MigrationInterface {
  name = 'EventStore1764057600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE events (
        global_position bigint PRIMARY KEY,
        stream_id text NOT NULL,
        stream_version integer NOT NULL,
        event_id uuid NOT NULL,
        type text NOT NULL,
        schema_version integer NOT NULL,
        data jsonb NOT NULL,
        occurred_at timestamptz NOT NULL,
        correlation_id text NOT NULL,
        causation_id text NOT NULL,
        actor text NOT NULL,
        CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
        CONSTRAINT events_event_id_key UNIQUE (event_id)
      )`);
    await db.query(`CREATE INDEX events_type_idx ON events (type, global_position)`);
    await db.query(`
      CREATE TABLE outbox (
        global_position bigint PRIMARY KEY,
        stream_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE subscription_checkpoints (
        subscriber text PRIMARY KEY,
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE subscription_streams (
        subscriber text NOT NULL,
        stream_id text NOT NULL,
        version integer NOT NULL,
        PRIMARY KEY (subscriber, stream_id)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE subscription_streams, subscription_checkpoints, outbox, events`);
  }
}
