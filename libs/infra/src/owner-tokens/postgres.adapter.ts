import type { DataSource } from 'typeorm';
import { constantTimeEqual } from '../security/local-secret.js';
import type { OwnerToken, OwnerTokenStore } from './owner-tokens.port.js';

type Row = { id: string; owner: string; token_sha256: string; revoked: boolean };

/** In Postgres (`owner_tokens`), so every api instance accepts a token any of them issued. */
export class PostgresOwnerTokenStore implements OwnerTokenStore {
  constructor(private readonly db: DataSource) {}

  async add({ id, owner, sha256, issuedBy }: Parameters<OwnerTokenStore['add']>[0]): Promise<void> {
    await this.db.query(`INSERT INTO owner_tokens (id, owner, token_sha256, issued_by) VALUES ($1, $2, $3, $4)`, [
      id,
      owner,
      sha256,
      issuedBy,
    ]);
  }

  async findActive(sha256: string): Promise<OwnerToken | null> {
    const [row] = (await this.db.query(
      `SELECT id, owner, token_sha256, revoked_at IS NOT NULL AS revoked FROM owner_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL`,
      [sha256],
    )) as Row[];
    // The index found it by equality; the comparison that decides is the constant-time one.
    return row && constantTimeEqual(row.token_sha256, sha256) ? tokenOf(row) : null;
  }

  async find(id: string): Promise<OwnerToken | null> {
    if (!UUID.test(id)) return null;
    const [row] = (await this.db.query(`SELECT id, owner, revoked_at IS NOT NULL AS revoked FROM owner_tokens WHERE id = $1`, [
      id,
    ])) as Row[];
    return row ? tokenOf(row) : null;
  }

  async revoke(id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const [, count] = (await this.db.query(`UPDATE owner_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`, [id])) as [
      unknown,
      number,
    ];
    return count > 0;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const tokenOf = ({ id, owner, revoked }: Row): OwnerToken => ({ id, owner, revoked });
