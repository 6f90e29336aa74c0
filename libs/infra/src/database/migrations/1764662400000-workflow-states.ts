import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The pipeline process manager's state per delivery, folded one event at a time and written in the transaction
 * that advances its checkpoint. Derived from the events only: a missing row is folded again from its delivery's
 * events, so rows may be deleted at any time.
 */
export class WorkflowStates1764662400000 implements MigrationInterface {
  name = 'WorkflowStates1764662400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE workflow_states (
        workflow text NOT NULL,
        correlation_id text NOT NULL,
        state jsonb NOT NULL,
        position bigint NOT NULL,
        PRIMARY KEY (workflow, correlation_id)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE workflow_states');
  }
}
