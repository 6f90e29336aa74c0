import { deepStrictEqual } from 'node:assert/strict';
import type { FaaslineEvent, RecordedEvent } from '#domain';
import type { Row, RowProjection } from '../../src/projections/row-projection.js';

let position = 0;

/** An event as the log delivers it; positions grow in the order events are written in a spec. */
export function recorded<E extends FaaslineEvent>(event: E, metadata: Partial<RecordedEvent['metadata']> = {}): RecordedEvent<E> {
  position += 1;
  return {
    ...event,
    metadata: {
      eventId: `event-${position}`,
      streamId: 'stream',
      streamVersion: position,
      globalPosition: position,
      occurredAt: new Date(Date.UTC(2026, 10, 30, 12, 0, position)).toISOString(),
      correlationId: 'delivery-1',
      causationId: 'cause',
      actor: 'system:pipeline',
      schemaVersion: 1,
      ...metadata,
    },
  } as RecordedEvent<E>;
}

/** Given these events, the rows of `projection` are: a read-model spec in one breath. */
export function given<R extends Row>(projection: RowProjection<R>, ...events: readonly RecordedEvent<FaaslineEvent>[]) {
  const rows = new Map<string, R>();
  for (const event of events) {
    const key = projection.keyOf(event);
    if (key !== null) rows.set(key, projection.evolve(rows.get(key) ?? null, event));
  }
  return {
    row: (key: string) => rows.get(key),
    then: (key: string, expected: Partial<R>) => {
      const row = rows.get(key);
      if (!row) throw new Error(`no row ${key}`);
      deepStrictEqual(Object.fromEntries(Object.keys(expected).map((column) => [column, row[column]])), expected);
    },
    thenNone: () => deepStrictEqual([...rows.keys()], []),
  };
}
