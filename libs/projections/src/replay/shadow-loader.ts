import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from 'pg';
import type { Event, FaaslineEvent, RecordedEvent } from '#domain';
import { readModelProjections, upsertRows } from '../projections/read-models.js';
import type { Row, RowProjection, TableNames } from '../projections/row-projection.js';

/** Rows kept in memory per read model before the least recently touched half is written out. */
const DEFAULT_CAPACITY = 20_000;

type Cached = { row: Row; stored: boolean };

/**
 * Replay's bulk path into fresh shadow tables: the same folds as the live projector, but rows stay in memory
 * until they go cold (a build or a push is touched by events close together in the log), so each row is
 * written about once, by COPY, instead of read and rewritten by every batch that touches it. A row touched
 * again after it went out is read back and upserted. Memory is bounded by `capacity` rows per read model.
 */
export class ShadowLoader {
  private readonly caches = new Map<RowProjection, Map<string, Cached>>();
  private readonly written = new Map<RowProjection, Set<string>>();

  constructor(
    private readonly client: PoolClient,
    private readonly tables: TableNames,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {
    for (const projection of readModelProjections) {
      this.caches.set(projection, new Map());
      this.written.set(projection, new Set());
    }
  }

  async apply(events: readonly RecordedEvent<Event>[]): Promise<void> {
    const batch = events as readonly RecordedEvent<FaaslineEvent>[];
    for (const projection of readModelProjections) {
      const cache = this.caches.get(projection)!;
      await this.readBack(projection, batch);
      for (const event of batch) {
        const key = projection.keyOf(event);
        if (key === null) continue;
        const cached = cache.get(key);
        cache.delete(key); // re-inserted last: Map order is least recently touched first
        cache.set(key, { row: projection.evolve(cached?.row ?? null, event), stored: cached?.stored ?? false });
      }
      if (cache.size > this.capacity) await this.evict(projection, cache.size - Math.floor(this.capacity / 2));
    }
  }

  /** Writes every row still in memory. */
  async finish(): Promise<void> {
    for (const projection of readModelProjections) await this.evict(projection, this.caches.get(projection)!.size);
  }

  /** Rows written out earlier and touched again by this batch come back into memory, marked as stored. */
  private async readBack(projection: RowProjection, batch: readonly RecordedEvent<FaaslineEvent>[]): Promise<void> {
    const cache = this.caches.get(projection)!;
    const written = this.written.get(projection)!;
    const missing = [
      ...new Set(
        batch.map((event) => projection.keyOf(event)).filter((key): key is string => key !== null && !cache.has(key) && written.has(key)),
      ),
    ];
    if (missing.length === 0) return;
    const { rows } = await this.client.query(`SELECT * FROM ${this.tables[projection.table]} WHERE ${projection.key} = ANY($1)`, [missing]);
    for (const row of rows as Row[]) cache.set(String(row[projection.key]), { row, stored: true });
  }

  private async evict(projection: RowProjection, count: number): Promise<void> {
    const cache = this.caches.get(projection)!;
    const written = this.written.get(projection)!;
    const fresh: Row[] = [];
    const stored: Row[] = [];
    for (const [key, cached] of cache) {
      if (fresh.length + stored.length >= count) break;
      (cached.stored ? stored : fresh).push(cached.row);
      cache.delete(key);
      written.add(key);
    }
    await this.copy(projection, fresh);
    await upsertRows(this.client, this.tables[projection.table], projection.key, stored);
  }

  private async copy(projection: RowProjection, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = Object.keys(rows[0]!);
    const text = rows.map((row) => columns.map((column) => copyText(row[column])).join('\t')).join('\n') + '\n';
    await pipeline(
      Readable.from([text]),
      this.client.query(copyFrom(`COPY ${this.tables[projection.table]} (${columns.join(', ')}) FROM STDIN`)),
    );
  }
}

/** A value in COPY's text format: \N for null, backslash escapes for the characters that delimit rows and columns. */
function copyText(value: Row[string] | Date | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return String(value).replace(/[\\\n\r\t]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!);
}
