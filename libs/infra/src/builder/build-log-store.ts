import type { DataSource } from 'typeorm';

const TAIL_LINES = 20;
const TAIL_BYTES = 2000;

/** Build logs in Postgres, readable from any instance; the tail also travels in the build's event. */
export class BuildLogStore {
  constructor(private readonly db: DataSource) {}

  async save(buildId: string, lines: readonly string[]): Promise<void> {
    const text = lines.join('\n');
    await this.db.query(
      `INSERT INTO build_logs (build_id, log) VALUES ($1, $2) ON CONFLICT (build_id) DO UPDATE SET log = EXCLUDED.log, updated_at = now()`,
      [buildId, text],
    );
  }

  async read(buildId: string): Promise<string | null> {
    const [row] = await this.db.query(`SELECT log FROM build_logs WHERE build_id = $1`, [buildId]);
    return row ? (row.log as string) : null;
  }
}

export const logTail = (lines: readonly string[]) => lines.slice(-TAIL_LINES).join('\n').slice(-TAIL_BYTES);
