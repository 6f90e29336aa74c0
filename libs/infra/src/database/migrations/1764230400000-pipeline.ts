import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pipeline state that is not an event: the queue of steps still to run (written in the same transaction as the
 * checkpoint of the subscriber that enqueued them) and the build contexts, stored once per content digest.
 */
export class Pipeline1764230400000 implements MigrationInterface {
  name = 'Pipeline1764230400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE pipeline_jobs (
        id text PRIMARY KEY,
        seq bigserial NOT NULL,
        step text NOT NULL,
        payload jsonb NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        not_before timestamptz NOT NULL DEFAULT now(),
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        done_at timestamptz
      )`);
    await db.query(`CREATE INDEX pipeline_jobs_pending ON pipeline_jobs (step, seq) WHERE done_at IS NULL`);
    await db.query(`
      CREATE TABLE build_contexts (
        digest text PRIMARY KEY,
        archive bytea NOT NULL,
        bytes integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE build_contexts');
    await db.query('DROP TABLE pipeline_jobs');
  }
}
