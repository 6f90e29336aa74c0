import type { DataSource } from 'typeorm';
import type { SealedSecretStore } from './sealed-secret-store.port.js';

/** In Postgres (`sealed_secrets`), so the instance that sets a secret need not be the one that read the push. */
export class PostgresSealedSecretStore implements SealedSecretStore {
  constructor(private readonly db: DataSource) {}

  async put(fingerprint: string, sealed: string): Promise<void> {
    await this.db.query(`INSERT INTO sealed_secrets (fingerprint, sealed) VALUES ($1, $2) ON CONFLICT (fingerprint) DO NOTHING`, [
      fingerprint,
      sealed,
    ]);
  }

  async get(fingerprint: string): Promise<string | null> {
    const [row] = (await this.db.query(`SELECT sealed FROM sealed_secrets WHERE fingerprint = $1`, [fingerprint])) as { sealed: string }[];
    return row?.sealed ?? null;
  }
}
