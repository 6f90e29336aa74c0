import type { QueryRunner } from 'typeorm';
import type { Event, RecordedEvent } from '#domain';
import { toRecordedEvent, type EventRow } from '../event-store/postgres.adapter.js';

export const RELAY_LOCK = 7166740102;

/** Oldest unpublished events first: the topic receives each stream in version order. */
export async function readOutbox(runner: QueryRunner, limit: number): Promise<RecordedEvent<Event>[]> {
  const rows: EventRow[] = await runner.query(
    `SELECT e.* FROM outbox o JOIN events e ON e.global_position = o.global_position
      ORDER BY o.global_position LIMIT $1`,
    [limit],
  );
  // Published as stored: consumers upcast on read, so old versions stay old on the wire.
  return rows.map((row) => toRecordedEvent(row, (event) => event));
}

export async function markPublished(runner: QueryRunner, events: readonly RecordedEvent<Event>[]): Promise<void> {
  await runner.query(`DELETE FROM outbox WHERE global_position = ANY($1::bigint[])`, [
    events.map((event) => event.metadata.globalPosition),
  ]);
}
