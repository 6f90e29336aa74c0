import type { DataSource } from 'typeorm';
import { upcast, type Event, type RecordedEvent } from '#domain';
import { eventColumns, readEventsByCorrelation, toRecordedEvent, type EventRow } from '../../event-store/postgres.adapter.js';
import { sliceOf, type Slice } from '../visibility.js';
import type { AuditFilter, AuditReadModel } from './audit.read-model.js';

/** Longer than any pipeline's chain (push → source → build → deploy); a bound, not a limit anyone meets. */
const MAX_CHAIN = 64;
const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** read_audit carries what the trail is filtered by (owner and repo lower-cased), the event store the data. */
export class PostgresAuditReadModel implements AuditReadModel {
  constructor(private readonly db: DataSource) {}

  async trail(filter: AuditFilter, { limit, after }: Readonly<{ limit: number; after?: number }>): Promise<Slice<RecordedEvent<Event>>> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (condition: (parameter: string) => string, value: unknown) => {
      if (value === undefined) return;
      values.push(value);
      where.push(condition(`$${values.length}`));
    };
    add((p) => `a.owner = lower(${p})`, filter.owner);
    add((p) => `a.repo = lower(${p})`, filter.repo);
    add((p) => `a.type = ${p}`, filter.type);
    add((p) => `a.occurred_at >= ${p}`, filter.since);
    add((p) => `a.occurred_at < ${p}`, filter.until);
    add((p) => `a.actor = ${p}`, filter.actor);
    // One delivery's events come straight from the events_correlation index.
    add((p) => `a.position IN (SELECT global_position FROM events WHERE correlation_id = ${p})`, filter.correlationId);
    add((p) => `a.position > ${p}`, after);
    values.push(limit + 1);
    // The page is chosen in read_audit first, then joined: the events are read by position, a page's worth.
    const rows: EventRow[] = await this.db.query(
      `SELECT ${eventColumns('e')}
         FROM (SELECT a.position FROM read_audit a ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.position LIMIT $${values.length}) page
         JOIN events e ON e.global_position = page.position
        ORDER BY e.global_position`,
      values,
    );
    return sliceOf(
      rows.map((row) => toRecordedEvent(row, upcast)),
      limit,
    );
  }

  ofDelivery(deliveryId: string, afterPosition: number): Promise<RecordedEvent<Event>[]> {
    return readEventsByCorrelation(this.db, deliveryId, Number.MAX_SAFE_INTEGER, afterPosition);
  }

  async causationChain(eventId: string): Promise<RecordedEvent<Event>[]> {
    // Causation ids that are not UUIDs (a delivery id could be anything) end the chain instead of failing the cast.
    const rows: EventRow[] = await this.db.query(
      `WITH RECURSIVE chain AS (
         SELECT ${eventColumns('e')}, 0 AS depth FROM events e WHERE e.event_id = $1::uuid
         UNION ALL
         SELECT ${eventColumns('e')}, c.depth + 1 FROM chain c
           JOIN events e ON e.event_id = CASE WHEN c.causation_id ~ $2 THEN c.causation_id::uuid END
          WHERE c.depth < $3)
       SELECT * FROM chain ORDER BY depth`,
      [eventId, UUID, MAX_CHAIN],
    );
    return rows.map((row) => toRecordedEvent(row, upcast));
  }
}
