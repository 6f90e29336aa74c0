import type { Queryable } from './row-projection.js';

/**
 * `GET /api/v1/audit`: one line per event, its envelope and the owner and repository its data names (lower-cased,
 * so filters match GitHub's case-insensitive logins); the data itself is read from the event store through the
 * upcasters. Every column comes straight from the stored event, so the projection is one statement over the
 * events table: the live projector and a replay write the same rows without moving events through Node. `owner`,
 * `repo` and `account` have kept their shape since the first schema version; an upcaster that renames one must
 * change this statement too.
 */
export async function projectAuditTrail(
  db: Queryable,
  table: string,
  events: Readonly<{ positions: readonly number[] } | { after: number; upTo: number }>,
): Promise<void> {
  const [where, parameters] =
    'positions' in events
      ? ['global_position = ANY($1::bigint[])', [events.positions]]
      : ['global_position > $1 AND global_position <= $2', [events.after, events.upTo]];
  if ('positions' in events && events.positions.length === 0) return;
  await db.query(
    `INSERT INTO ${table} (position, event_id, type, stream, owner, repo, occurred_at, actor, correlation_id, causation_id)
     SELECT global_position, event_id::text, type, stream_id,
            lower(CASE WHEN jsonb_typeof(data->'owner') = 'string' THEN data->>'owner'
                       WHEN jsonb_typeof(data->'account') = 'string' THEN data->>'account' END),
            lower(CASE WHEN jsonb_typeof(data->'repo') = 'string' THEN data->>'repo' END),
            occurred_at, actor, correlation_id, causation_id
       FROM events WHERE ${where}
     ON CONFLICT (position) DO NOTHING`,
    parameters,
  );
}
