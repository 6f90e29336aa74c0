import type { Event, FaaslineEvent, RecordedEvent } from '#domain';
import { projectAuditTrail } from './audit.projection.js';
import { buildsProjection } from './builds.projection.js';
import { functionsProjection } from './functions.projection.js';
import { pushesProjection } from './pushes.projection.js';
import { anyRows, foldRows, liveTables, type Queryable, type Row, type RowProjection, type TableNames } from './row-projection.js';

/** The read models folded row by row; the audit trail is a statement over the events table (audit.projection.ts). */
export const readModelProjections: readonly RowProjection[] = [
  anyRows(functionsProjection),
  anyRows(buildsProjection),
  anyRows(pushesProjection),
];

/** The subscriber (and checkpoint) of all read models: one cut of the log, so replay can swap them together. */
export const READ_MODELS_SUBSCRIBER = 'projector:read-models';

/**
 * Held shared by every live batch and exclusively by a replay's swap: the swap sees exactly the batches that
 * committed, and no batch writes to a table while it is being swapped.
 */
export const READ_MODELS_LOCK = 7166740200;

/**
 * Applies a batch to the read models in `tables`: per read model, one read of the rows the batch touches and
 * one multi-row upsert. The same code keeps the live tables current and rebuilds shadow tables on replay.
 */
export async function applyToReadModels(
  db: Queryable,
  events: readonly RecordedEvent<Event>[],
  tables: TableNames = liveTables,
): Promise<void> {
  const batch = events as readonly RecordedEvent<FaaslineEvent>[];
  for (const projection of readModelProjections) {
    const table = tables[projection.table];
    const rows = await foldRows(projection, batch, async (keys) => {
      const stored: Row[] = await db.query(`SELECT * FROM ${table} WHERE ${projection.key} = ANY($1)`, [keys]);
      return new Map(stored.map((row) => [String(row[projection.key]), row]));
    });
    await upsertRows(db, table, projection.key, rows);
  }
  await projectAuditTrail(db, tables.audit, { positions: events.map((event) => event.metadata.globalPosition) });
}

/** One multi-row upsert. */
export async function upsertRows(db: Queryable, table: string, key: string, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  await db.query(
    `INSERT INTO ${table} (${columns.join(', ')}) SELECT ${columns.join(', ')} FROM json_populate_recordset(NULL::${table}, $1)
     ON CONFLICT (${key}) DO UPDATE SET ${columns
       .filter((column) => column !== key)
       .map((column) => `${column} = EXCLUDED.${column}`)
       .join(', ')}`,
    [JSON.stringify(rows)],
  );
}
