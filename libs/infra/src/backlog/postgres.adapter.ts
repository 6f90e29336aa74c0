import type { DataSource } from 'typeorm';
import type { Backlog } from './backlog.port.js';

export class PostgresBacklog implements Backlog {
  constructor(private readonly db: DataSource) {}

  async outboxPending(): Promise<number> {
    const [outbox] = await this.db.query(`SELECT count(*)::bigint AS pending FROM outbox`);
    return Number(outbox.pending);
  }

  async checkpoints(): Promise<readonly Readonly<{ subscriber: string; position: number }>[]> {
    const rows: { subscriber: string; position: string }[] = await this.db.query(
      `SELECT subscriber, position FROM subscription_checkpoints ORDER BY subscriber`,
    );
    return rows.map((row) => ({ subscriber: row.subscriber, position: Number(row.position) }));
  }

  async oldestUnappliedAgeSeconds(subscriber: string): Promise<number> {
    const [lag] = await this.db.query(
      `SELECT coalesce(extract(epoch FROM now() - min(e.occurred_at)), 0)::float AS seconds
         FROM subscription_checkpoints c JOIN events e ON e.global_position = c.position + 1
        WHERE c.subscriber = $1`,
      [subscriber],
    );
    return Number(lag?.seconds ?? 0);
  }
}
