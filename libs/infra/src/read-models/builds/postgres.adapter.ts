import type { DataSource } from 'typeorm';
import { publicPush, sliceOf, type Audience, type Slice } from '../visibility.js';
import type { BuildCursor, BuildsReadModel, BuildView } from './builds.read-model.js';

const isoTime = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The select list that reads a `read_builds` row (alias `b`) straight in its answer's shape: Postgres formats the
 * times, so a page of builds costs no entity hydration or date parsing in the api (the tail of the list's latency).
 */
const BUILD_VIEW_COLUMNS = `b.id, b.function_name AS name, b.owner, b.repo, b.sha, b.status, b.image, b.context_digest AS "contextDigest",
  ${isoTime('b.started_at')} AS "startedAt", ${isoTime('b.finished_at')} AS "finishedAt", b.duration_ms AS "durationMs", b.reason,
  b.delivery_id AS "deliveryId", b.reused_build_id AS "reusedBuildId", b.superseded_by AS "supersededBy", b.builder, b.image_digest AS "imageDigest",
  string_to_array(b.platforms, ',') AS platforms`;

/**
 * A page of one function's builds, newest first: `$1` the name, `$2` the rows to read, `$3`/`$4` the cursor's seq
 * and id when `paged`. Exported for bench/query, which times it without the api.
 */
export const functionBuildsSql = (audience: Audience, paged: boolean) =>
  `SELECT ${BUILD_VIEW_COLUMNS}, b.seq FROM read_builds b
    WHERE b.function_name = $1 ${paged ? 'AND b.seq <= $3 AND (b.seq, b.id) < ($3, $4)' : ''} ${audience === 'admin' ? '' : `AND ${publicPush('b.delivery_id')}`}
    ORDER BY b.seq DESC, b.id DESC LIMIT $2`;

export class PostgresBuildsReadModel implements BuildsReadModel {
  constructor(private readonly db: DataSource) {}

  async ofFunction(
    name: string,
    { limit, before, audience }: Readonly<{ limit: number; before?: BuildCursor; audience: Audience }>,
  ): Promise<Slice<BuildView & { seq: number }>> {
    // `seq <=` lets the index (read_builds_function) start at the cursor; the row comparison then breaks a tie on seq by id.
    const rows: (BuildView & { seq: string })[] = await this.db.query(
      functionBuildsSql(audience, before !== undefined),
      before ? [name, limit + 1, before[0], before[1]] : [name, limit + 1],
    );
    return sliceOf(
      rows.map((row) => ({ ...row, seq: Number(row.seq) })),
      limit,
    );
  }

  async byId(id: string, audience: Audience): Promise<BuildView | null> {
    const visible = audience === 'admin' ? '' : `AND ${publicPush('b.delivery_id')}`;
    const [row] = await this.db.query(`SELECT ${BUILD_VIEW_COLUMNS} FROM read_builds b WHERE b.id = $1 ${visible}`, [id]);
    return row ?? null;
  }
}
