import type { DataSource } from 'typeorm';
import type { BuildLog } from './build-log.js';

/** Build logs in Postgres, readable from any instance; the tail also travels in the build's event. */
export class BuildLogStore {
  constructor(private readonly db: DataSource) {}

  /** Stores the log's head and tail (see BuildLog), never more. */
  async save(buildId: string, log: BuildLog): Promise<void> {
    await this.db.query(
      `INSERT INTO build_logs (build_id, log) VALUES ($1, $2) ON CONFLICT (build_id) DO UPDATE SET log = EXCLUDED.log, updated_at = now()`,
      [buildId, log.text()],
    );
  }

  async read(buildId: string): Promise<string | null> {
    const [row] = await this.db.query(`SELECT log FROM build_logs WHERE build_id = $1`, [buildId]);
    return row ? (row.log as string) : null;
  }
}
