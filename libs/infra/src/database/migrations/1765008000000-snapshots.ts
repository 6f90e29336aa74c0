import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Folded write-side state of long streams (see `readState`), so a command does not fold a stream from its first
 * event. A cache, not a source: rows may be deleted at any time, and replay never reads them. One row per stream,
 * fold and schema version: a snapshot written by code with another state shape is left for that code.
 */
export class Snapshots1765008000000 implements MigrationInterface {
  name = 'Snapshots1765008000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE snapshots (
        stream_id text NOT NULL,
        name text NOT NULL,
        schema_version integer NOT NULL,
        version integer NOT NULL,
        event_id uuid NOT NULL,
        state jsonb NOT NULL,
        taken_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (stream_id, name, schema_version)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE snapshots');
  }
}
