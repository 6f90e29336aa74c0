import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The sealed values of pushes' secrets.yml by fingerprint: events and jobs name a secret by its fingerprint, and the
 * step that sets it on the gateway finds the sealed value here and opens it at the last moment. Only ciphertext.
 */
export class SealedSecrets1764835200100 implements MigrationInterface {
  name = 'SealedSecrets1764835200100';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE sealed_secrets (fingerprint text PRIMARY KEY, sealed text NOT NULL, stored_at timestamptz NOT NULL DEFAULT now())`,
    );
    // Whose a deployed secret name is: the newest SecretSet or SecretDeleted naming it.
    await db.query(
      `CREATE INDEX events_secret_name ON events ((data->>'secret'), global_position) WHERE type IN ('SecretSet', 'SecretDeleted')`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX events_secret_name');
    await db.query('DROP TABLE sealed_secrets');
  }
}
