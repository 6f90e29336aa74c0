import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signing in: `sign_in_attempts` holds a GitHub sign-in under way (found by the sha256 of its `state`, taken out
 * once, ten minutes at most); `sessions` the signed-in browsers, by the sha256 of the session id only. The GitHub
 * token is not kept: the owners a user belongs to are read once, at sign-in.
 */
export class Sessions1765094400000 implements MigrationInterface {
  name = 'Sessions1765094400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE sign_in_attempts (
         state_sha256 text PRIMARY KEY,
         browser_sha256 text NOT NULL,
         code_verifier text NOT NULL,
         return_to text NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         expires_at timestamptz NOT NULL
       )`,
    );
    await db.query(
      `CREATE TABLE sessions (
         id_sha256 text PRIMARY KEY,
         kind text NOT NULL CHECK (kind IN ('github', 'local')),
         login text,
         github_id bigint,
         orgs text[] NOT NULL DEFAULT '{}',
         admin boolean NOT NULL,
         created_at timestamptz NOT NULL,
         expires_at timestamptz NOT NULL,
         last_seen_at timestamptz NOT NULL
       )`,
    );
    await db.query(`CREATE INDEX sessions_expires_at ON sessions (expires_at)`);
    await db.query(`CREATE INDEX sign_in_attempts_expires_at ON sign_in_attempts (expires_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE sessions');
    await db.query('DROP TABLE sign_in_attempts');
  }
}
