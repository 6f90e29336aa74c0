import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Owner API tokens: only the sha256 of each token is kept (the token is shown once, at issuance). A revoked token
 * keeps its row, so its id still names who acted in the events it caused.
 */
export class OwnerTokens1764835200000 implements MigrationInterface {
  name = 'OwnerTokens1764835200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE owner_tokens (
         id uuid PRIMARY KEY,
         owner text NOT NULL,
         token_sha256 text NOT NULL UNIQUE,
         issued_by text NOT NULL,
         issued_at timestamptz NOT NULL DEFAULT now(),
         revoked_at timestamptz
       )`,
    );
    await db.query(`CREATE INDEX owner_tokens_owner ON owner_tokens (lower(owner))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE owner_tokens');
  }
}
