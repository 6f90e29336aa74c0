import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whose work a queued job is (the owner of a build or deploy), so the step queue can share its slots out across
 * owners. Jobs enqueued before have none and are scheduled each on its own.
 */
export class FairShare1764576005000 implements MigrationInterface {
  name = 'FairShare1764576005000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE pipeline_jobs ADD COLUMN fair_group text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE pipeline_jobs DROP COLUMN fair_group`);
  }
}
