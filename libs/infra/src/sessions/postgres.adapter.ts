import type { DataSource } from 'typeorm';
import { constantTimeEqual } from '../security/local-secret.js';
import type { Session, SessionStore, SignInAttempt } from './session-store.port.js';

type SessionRow = {
  id_sha256: string;
  kind: 'github' | 'local';
  login: string | null;
  github_id: string | null;
  orgs: string[];
  admin: boolean;
  created_at: Date;
  expires_at: Date;
};
type AttemptRow = { browser_sha256: string; code_verifier: string; return_to: string; expires_at: Date };

/** In Postgres (`sessions`, `sign_in_attempts`), so a browser signed in on one api instance is signed in on all. */
export class PostgresSessionStore implements SessionStore {
  constructor(private readonly db: DataSource) {}

  async open(idSha256: string, session: Session): Promise<void> {
    await this.db.query(
      `INSERT INTO sessions (id_sha256, kind, login, github_id, orgs, admin, created_at, expires_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)`,
      [idSha256, session.kind, session.login, session.githubId, session.orgs, session.admin, session.createdAt, session.expiresAt],
    );
  }

  async find(idSha256: string, now: Date): Promise<Session | null> {
    const [rows] = (await this.db.query(
      `UPDATE sessions SET last_seen_at = $2 WHERE id_sha256 = $1 AND expires_at > $2
       RETURNING id_sha256, kind, login, github_id, orgs, admin, created_at, expires_at`,
      [idSha256, now],
    )) as [SessionRow[], number];
    const found = rows[0];
    if (!found) {
      // Expired sessions go when they are next shown, besides the sweep.
      await this.db.query(`DELETE FROM sessions WHERE id_sha256 = $1 AND expires_at <= $2`, [idSha256, now]);
      return null;
    }
    // The index found it by equality; the comparison that decides is the constant-time one.
    if (!constantTimeEqual(found.id_sha256, idSha256)) return null;
    return {
      kind: found.kind,
      login: found.login,
      githubId: found.github_id === null ? null : Number(found.github_id),
      orgs: found.orgs,
      admin: found.admin,
      createdAt: found.created_at,
      expiresAt: found.expires_at,
    };
  }

  async close(idSha256: string): Promise<void> {
    await this.db.query(`DELETE FROM sessions WHERE id_sha256 = $1`, [idSha256]);
  }

  async sweep(now: Date): Promise<Readonly<{ sessions: number; attempts: number }>> {
    const [, sessions] = (await this.db.query(`DELETE FROM sessions WHERE expires_at <= $1`, [now])) as [unknown, number];
    const [, attempts] = (await this.db.query(`DELETE FROM sign_in_attempts WHERE expires_at <= $1`, [now])) as [unknown, number];
    return { sessions, attempts };
  }

  async begin(stateSha256: string, attempt: SignInAttempt): Promise<void> {
    await this.db.query(
      `INSERT INTO sign_in_attempts (state_sha256, browser_sha256, code_verifier, return_to, expires_at) VALUES ($1, $2, $3, $4, $5)`,
      [stateSha256, attempt.browserSha256, attempt.codeVerifier, attempt.returnTo, attempt.expiresAt],
    );
  }

  async take(stateSha256: string): Promise<SignInAttempt | null> {
    const [rows] = (await this.db.query(
      `DELETE FROM sign_in_attempts WHERE state_sha256 = $1 RETURNING browser_sha256, code_verifier, return_to, expires_at`,
      [stateSha256],
    )) as [AttemptRow[], number];
    const row = rows[0];
    return row
      ? { browserSha256: row.browser_sha256, codeVerifier: row.code_verifier, returnTo: row.return_to, expiresAt: row.expires_at }
      : null;
  }
}
