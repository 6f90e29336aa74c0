import type { DataSource } from 'typeorm';
import type { ContextStore } from './context-store.port.js';

/** In Postgres, so any instance's builder can read what any instance's source step packed. */
export class PostgresContextStore implements ContextStore {
  constructor(private readonly db: DataSource) {}

  async put(digest: string, archive: Buffer): Promise<void> {
    await this.db.query(`INSERT INTO build_contexts (digest, archive, bytes) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING`, [
      digest,
      archive,
      archive.length,
    ]);
  }

  async get(digest: string): Promise<Buffer | null> {
    const [row] = await this.db.query(`SELECT archive FROM build_contexts WHERE digest = $1`, [digest]);
    return row ? (row.archive as Buffer) : null;
  }
}
