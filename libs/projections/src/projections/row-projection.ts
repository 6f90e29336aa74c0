import type { EntityManager } from 'typeorm';
import type { FaaslineEvent, RecordedEvent } from '#domain';

/** A DataSource, a QueryRunner or a transaction's EntityManager: anything that runs SQL. */
export type Queryable = Pick<EntityManager, 'query'>;

/** The read-model tables, by role; replay points the same projections at shadow copies of them. */
export type ReadModelTable = 'functions' | 'builds' | 'pushes' | 'audit';
export type TableNames = Readonly<Record<ReadModelTable, string>>;

export const liveTables: TableNames = { functions: 'read_functions', builds: 'read_builds', pushes: 'read_pushes', audit: 'read_audit' };
export const shadowTables: TableNames = {
  functions: 'read_functions_shadow',
  builds: 'read_builds_shadow',
  pushes: 'read_pushes_shadow',
  audit: 'read_audit_shadow',
};

/** A row as stored: snake_case column names, the values a fold of events gives. */
export type Row = Readonly<Record<string, string | number | boolean | null>>;

/**
 * One read model as a pure fold: which row an event changes, and how. A row is only ever changed by events of
 * one stream, or by columns no other stream writes, so Kafka's per-stream order is all a fold relies on.
 */
export type RowProjection<R extends Row = Row> = Readonly<{
  table: Exclude<ReadModelTable, 'audit'>;
  key: keyof R & string;
  /** The key of the row `event` changes, or null when this read model ignores it. */
  keyOf: (event: RecordedEvent<FaaslineEvent>) => string | null;
  evolve: (row: R | null, event: RecordedEvent<FaaslineEvent>) => R;
}>;

/**
 * The same projection over rows of any shape, so projections of different rows share one list. Sound because the
 * rows it is handed back are only ever its own: folded by it, or read from its own table.
 */
export function anyRows<R extends Row>(projection: RowProjection<R>): RowProjection {
  return { ...projection, evolve: (row, event) => projection.evolve(row as R | null, event) };
}

/** Folds `events` onto the rows they touch; `load` reads the rows stored before this batch. */
export async function foldRows<R extends Row>(
  projection: RowProjection<R>,
  events: readonly RecordedEvent<FaaslineEvent>[],
  load: (keys: readonly string[]) => Promise<ReadonlyMap<string, R>>,
): Promise<R[]> {
  const touched = new Map<string, RecordedEvent<FaaslineEvent>[]>();
  for (const event of events) {
    const key = projection.keyOf(event);
    if (key === null) continue;
    const list = touched.get(key);
    if (list) list.push(event);
    else touched.set(key, [event]);
  }
  if (touched.size === 0) return [];
  const stored = await load([...touched.keys()]);
  const rows: R[] = [];
  for (const [key, list] of touched)
    rows.push(list.reduce<R | null>((row, event) => projection.evolve(row, event), stored.get(key) ?? null)!);
  return rows;
}
