import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Full build logs (events carry only their tail and the build id that finds the rest here), and lookup by delivery. */
export class BuildLogs1764316800000 implements MigrationInterface {
  name = 'BuildLogs1764316800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE build_logs (build_id text PRIMARY KEY, log text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
    // The pipeline's process manager folds the events of one delivery (one correlation id) before each decision.
    await db.query(`CREATE INDEX events_correlation ON events (correlation_id, global_position)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX events_correlation');
    await db.query('DROP TABLE build_logs');
  }
}
