import type { DataSource } from 'typeorm';
import type { SecretHoldersReadModel } from './secret-holders.read-model.js';

/**
 * Read from the event store itself, not a projected table: a secret set a moment ago must already hold its name,
 * or two owners could both take it.
 */
export class PostgresSecretHoldersReadModel implements SecretHoldersReadModel {
  constructor(private readonly db: DataSource) {}

  async holderOf(deployedName: string): Promise<string | null> {
    const [row] = (await this.db.query(
      `SELECT type, data->>'owner' AS owner FROM events WHERE type IN ('SecretSet', 'SecretDeleted') AND data->>'secret' = $1
       ORDER BY global_position DESC LIMIT 1`,
      [deployedName],
    )) as { type: string; owner: string }[];
    return row?.type === 'SecretSet' ? row.owner : null;
  }
}
