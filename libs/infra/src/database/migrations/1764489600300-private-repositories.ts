import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whether a push's repository was private (`repository.private`): anonymous readers see only functions, builds
 * and pushes of pushes known to be public. Existing rows take the flag from their PushReceived event; a replay
 * writes the same values.
 */
export class PrivateRepositories1764489600300 implements MigrationInterface {
  name = 'PrivateRepositories1764489600300';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE read_pushes ADD COLUMN private boolean`);
    await db.query(`
      UPDATE read_pushes p SET private = (e.data->>'private')::boolean
        FROM events e WHERE e.type = 'PushReceived' AND e.data->>'deliveryId' = p.delivery_id`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE read_pushes DROP COLUMN private`);
  }
}
