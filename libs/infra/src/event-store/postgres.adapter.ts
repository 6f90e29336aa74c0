import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { PoolClient, QueryResult } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import {
  currentSchemaVersions,
  upcast as defaultUpcast,
  type Event,
  type RecordedEvent,
  type StreamId,
  type UpcastFn,
  type Actor,
} from '#domain';
import {
  WrongExpectedVersion,
  type AppendResult,
  type CausationMetadata,
  type EventStore,
  type ExpectedVersion,
  type Snapshot,
  type StreamRange,
  type StreamRead,
} from './event-store.port.js';

/** Serialises appenders across processes; see the events migration for why positions need it. */
export const APPEND_LOCK = 7166740101;
export const EVENTS_CHANNEL = 'faasline_events';

export type PostgresEventStoreOptions = Readonly<{
  /** Write an outbox row per event for the Kafka relay; off when the events table itself is the log. */
  outbox: boolean;
  upcast?: UpcastFn;
  now?: () => Date;
  /** Most appends committed in one transaction. */
  maxBatch?: number;
}>;

type PendingAppend = {
  streamId: string;
  expectedVersion: ExpectedVersion;
  events: readonly Event[];
  metadata: CausationMetadata;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
};

export type EventRow = {
  global_position: string;
  stream_id: string;
  stream_version: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  occurred_at: Date;
  correlation_id: string;
  causation_id: string;
  actor: string;
};

const EVENT_ROW_COLUMNS = [
  'global_position',
  'stream_id',
  'stream_version',
  'event_id',
  'type',
  'schema_version',
  'data',
  'occurred_at',
  'correlation_id',
  'causation_id',
  'actor',
];

/** The columns `toRecordedEvent` reads, of the events table aliased `alias` when a query joins it to another. */
export const eventColumns = (alias?: string): string =>
  EVENT_ROW_COLUMNS.map((column) => (alias ? `${alias}.${column}` : column)).join(', ');

const COLUMNS = eventColumns();

/**
 * Event store on Postgres with group commit: appends that arrive while a transaction is in flight are
 * committed together in the next one, each still checked against its own expected version. One fsync then
 * serves many writers, which is where single-event append throughput comes from.
 */
export class PostgresEventStore implements EventStore {
  private readonly pending: PendingAppend[] = [];
  private flushing = false;
  private readonly appended = new EventEmitter().setMaxListeners(0);
  private readonly upcast: UpcastFn;
  private readonly now: () => Date;
  private readonly maxBatch: number;

  constructor(
    private readonly db: DataSource,
    private readonly options: PostgresEventStoreOptions,
  ) {
    this.upcast = options.upcast ?? defaultUpcast;
    this.now = options.now ?? (() => new Date());
    this.maxBatch = options.maxBatch ?? 256;
  }

  append<E extends Event>(
    streamId: StreamId<E>,
    expectedVersion: ExpectedVersion,
    events: readonly E[],
    metadata: CausationMetadata,
  ): Promise<AppendResult>;
  append(streamId: string, expectedVersion: ExpectedVersion, events: readonly Event[], metadata: CausationMetadata): Promise<AppendResult>;
  append(streamId: string, expectedVersion: ExpectedVersion, events: readonly Event[], metadata: CausationMetadata): Promise<AppendResult> {
    if (events.length === 0) return Promise.reject(new Error(`append to ${streamId} with no events`));
    return new Promise((resolve, reject) => {
      this.pending.push({ streamId, expectedVersion, events, metadata, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  readStream<E extends Event>(streamId: StreamId<E>, range?: StreamRange): Promise<StreamRead<E>>;
  readStream(streamId: string, range?: StreamRange): Promise<StreamRead>;
  async readStream(streamId: string, { from = 1, correlationId }: StreamRange = {}): Promise<StreamRead> {
    const rows: EventRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM events WHERE stream_id = $1 AND stream_version >= $2 ${correlationId === undefined ? '' : 'AND correlation_id = $3'}
        ORDER BY stream_version`,
      correlationId === undefined ? [streamId, from] : [streamId, from, correlationId],
    );
    const events = rows.map((row) => toRecordedEvent(row, this.upcast));
    return { version: events.at(-1)?.metadata.streamVersion ?? from - 1, events };
  }

  async readSnapshot(streamId: string, name: string, schemaVersion: number): Promise<Snapshot | null> {
    const [row] = await this.db.query(
      `SELECT version, event_id, state FROM snapshots WHERE stream_id = $1 AND name = $2 AND schema_version = $3`,
      [streamId, name, schemaVersion],
    );
    return row ? { name, schemaVersion, version: row.version, eventId: row.event_id, state: row.state } : null;
  }

  async writeSnapshot(streamId: string, { name, schemaVersion, version, eventId, state }: Snapshot): Promise<void> {
    // Writers race (several processes fold one stream): the later version wins, whoever writes last.
    await this.db.query(
      `INSERT INTO snapshots (stream_id, name, schema_version, version, event_id, state) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (stream_id, name, schema_version) DO UPDATE
         SET version = EXCLUDED.version, event_id = EXCLUDED.event_id, state = EXCLUDED.state, taken_at = now()
         WHERE snapshots.version < EXCLUDED.version`,
      [streamId, name, schemaVersion, version, eventId, JSON.stringify(state)],
    );
  }

  async readAll(position: number, limit: number): Promise<readonly RecordedEvent<Event>[]> {
    return readEventsAfter(this.db, position, limit, this.upcast);
  }

  async headPosition(): Promise<number> {
    const [row] = await this.db.query(`SELECT coalesce(max(global_position), 0) AS head FROM events`);
    return Number(row.head);
  }

  async wasAppended(idempotencyKey: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 FROM events WHERE event_id = $1`, [idempotentEventId(idempotencyKey, 0)]);
    return rows.length > 0;
  }

  async wasCorrelated(correlationId: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 FROM events WHERE correlation_id = $1 LIMIT 1`, [correlationId]);
    return rows.length > 0;
  }

  onAppended(listener: (head: number, events: readonly RecordedEvent<Event>[]) => void): () => void {
    this.appended.on('head', listener);
    return () => this.appended.off('head', listener);
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        // Writers woken by the previous commit re-append after a few promise hops; one macrotask lets them
        // join this group instead of waiting out a whole commit for the next one.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.pending.splice(0, this.maxBatch);
        try {
          await this.commit(batch);
        } catch (error) {
          if (batch.length === 1) batch[0]!.reject(error);
          // One bad append must not fail the others that happened to share its transaction.
          else for (const one of batch) await this.commit([one]).catch(one.reject);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async commit(batch: PendingAppend[]): Promise<void> {
    const runner = this.db.createQueryRunner();
    const client = (await runner.connect()) as SqlClient;
    let outcomes: Outcome[];
    try {
      outcomes = await this.writeBatch(client, batch);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
    let head = 0;
    const stored: RecordedEvent<Event>[] = [];
    outcomes.forEach((outcome, index) => {
      if (outcome.ok) {
        head = Math.max(head, outcome.result.lastPosition);
        stored.push(...outcome.result.events);
        batch[index]!.resolve(outcome.result);
      } else batch[index]!.reject(outcome.error);
    });
    if (head > 0) this.appended.emit('head', head, stored);
  }

  /**
   * Three round trips per group, whatever its size: begin, lock and read the stream versions in one
   * simple-protocol message (the only protocol that takes several statements, hence the escaped stream ids),
   * then the parameterised insert, then the commit.
   */
  private async writeBatch(client: SqlClient, batch: PendingAppend[]): Promise<Outcome[]> {
    const streamIds = [...new Set(batch.map((append) => append.streamId))];
    const keyedIds = batch.flatMap((append) =>
      append.metadata.idempotencyKey === undefined ? [] : [idempotentEventId(append.metadata.idempotencyKey, 0)],
    );
    const firstOfCorrelation = [
      ...new Set(batch.filter((append) => append.metadata.firstOfCorrelation).map((append) => append.metadata.correlationId)),
    ];
    // Appenders are serialised by the lock, so an id not stored yet cannot be stored by anyone else before COMMIT.
    // pg types `query` as answering one result; a text of several statements answers a list, one per statement.
    const results: QueryResult<BatchState>[] = [
      await client.query<BatchState>(
        `BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK});
       SELECT (SELECT coalesce(max(global_position), 0) FROM events) AS head,
              (SELECT coalesce(json_object_agg(id, version), '{}') FROM (
                 -- One backward index probe per stream: max() with GROUP BY would read every event of a long stream.
                 SELECT id, (SELECT stream_version FROM events WHERE stream_id = id ORDER BY stream_version DESC LIMIT 1) AS version
                   FROM unnest(ARRAY[${streamIds.map((id) => client.escapeLiteral(id)).join(',')}]::text[]) AS s(id)
               ) AS s WHERE version IS NOT NULL) AS versions,
              ${keyedIds.length === 0 ? `'[]'::json` : `(SELECT coalesce(json_agg(event_id), '[]') FROM events WHERE event_id = ANY(ARRAY[${keyedIds.map((id) => `'${id}'`).join(',')}]::uuid[]))`} AS existing,
              ${firstOfCorrelation.length === 0 ? `'[]'::json` : `(SELECT coalesce(json_agg(DISTINCT correlation_id), '[]') FROM events WHERE correlation_id = ANY(ARRAY[${firstOfCorrelation.map((id) => client.escapeLiteral(id)).join(',')}]::text[]))`} AS correlated`,
      ),
    ].flat();
    const state = results[2]!.rows[0]!;
    let position = Number(state.head);
    const versions = new Map<string, number>(Object.entries(state.versions));
    const seen = new Set(state.existing);
    const correlated = new Set(state.correlated);
    const occurredAt = this.now();
    const rows: RecordedEvent<Event>[] = [];
    const outcomes = batch.map((append): Outcome => {
      const actual = versions.get(append.streamId) ?? 0;
      const key = append.metadata.idempotencyKey;
      const first = key === undefined ? null : idempotentEventId(key, 0);
      if ((first !== null && seen.has(first)) || (append.metadata.firstOfCorrelation && correlated.has(append.metadata.correlationId)))
        return { ok: true, result: { nextExpectedVersion: actual, lastPosition: position, events: [], duplicate: true } };
      if (append.expectedVersion !== 'any' && append.expectedVersion !== actual) {
        return { ok: false, error: new WrongExpectedVersion(append.streamId, append.expectedVersion, actual) };
      }
      if (first !== null) seen.add(first);
      correlated.add(append.metadata.correlationId);
      const recorded = append.events.map((event, index) =>
        stamp(event, {
          eventId: key === undefined ? randomUUID() : idempotentEventId(key, index),
          streamId: append.streamId,
          streamVersion: actual + index + 1,
          globalPosition: ++position,
          occurredAt: occurredAt.toISOString(),
          correlationId: append.metadata.correlationId,
          causationId: append.metadata.causationId,
          actor: append.metadata.actor,
          schemaVersion: currentSchemaVersions[event.type as keyof typeof currentSchemaVersions] ?? 1,
        }),
      );
      versions.set(append.streamId, actual + recorded.length);
      rows.push(...recorded);
      return {
        ok: true,
        result: { nextExpectedVersion: actual + recorded.length, lastPosition: position, events: recorded, duplicate: false },
      };
    });
    if (rows.length > 0) await insertEvents(client, rows, this.options.outbox);
    await client.query('COMMIT');
    return outcomes;
  }
}

type SqlClient = Pick<PoolClient, 'query' | 'escapeLiteral'>;

type BatchState = { head: string; versions: Record<string, number>; existing: string[]; correlated: string[] };

const IDEMPOTENCY_NAMESPACE = 'faasline.idempotency.v1';

/** A name-based (version 5 layout) UUID: the same key and index always give the same event id. */
export function idempotentEventId(key: string, index: number): string {
  const hash = createHash('sha1').update(`${IDEMPOTENCY_NAMESPACE}\0${key}\0${index}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

type Outcome = { ok: true; result: AppendResult } | { ok: false; error: unknown };

const stamp = (event: Event, metadata: RecordedEvent<Event>['metadata']): RecordedEvent<Event> => ({
  type: event.type,
  data: event.data,
  metadata,
});

async function insertEvents(client: SqlClient, rows: readonly RecordedEvent<Event>[], outbox: boolean): Promise<void> {
  const column = <T>(pick: (event: RecordedEvent<Event>) => T) => rows.map(pick);
  await client.query(
    `WITH inserted AS (
       INSERT INTO events (${COLUMNS})
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::int[], $7::jsonb[],
                            $8::timestamptz[], $9::text[], $10::text[], $11::text[])
       RETURNING global_position, stream_id
     )${outbox ? `, queued AS (INSERT INTO outbox (global_position, stream_id) SELECT global_position, stream_id FROM inserted)` : ''}
     SELECT pg_notify('${EVENTS_CHANNEL}', $12::text)`,
    [
      column((e) => e.metadata.globalPosition),
      column((e) => e.metadata.streamId),
      column((e) => e.metadata.streamVersion),
      column((e) => e.metadata.eventId),
      column((e) => e.type),
      column((e) => e.metadata.schemaVersion),
      column((e) => JSON.stringify(e.data)),
      column((e) => e.metadata.occurredAt),
      column((e) => e.metadata.correlationId),
      column((e) => e.metadata.causationId),
      column((e) => e.metadata.actor),
      String(rows.at(-1)!.metadata.globalPosition),
    ],
  );
}

export function toRecordedEvent(row: EventRow, upcast: UpcastFn): RecordedEvent<Event> {
  const current = upcast({ type: row.type, schemaVersion: row.schema_version, data: row.data });
  return {
    type: current.type,
    data: current.data,
    metadata: {
      eventId: row.event_id,
      streamId: row.stream_id,
      streamVersion: row.stream_version,
      globalPosition: Number(row.global_position),
      occurredAt: row.occurred_at.toISOString(),
      correlationId: row.correlation_id,
      causationId: row.causation_id,
      actor: row.actor as Actor,
      schemaVersion: current.schemaVersion,
    },
  };
}

/** The events of one delivery (correlation id) between two positions (exclusive), in commit order. */
export async function readEventsByCorrelation(
  db: Pick<DataSource | QueryRunner, 'query'>,
  correlationId: string,
  beforePosition: number,
  afterPosition = 0,
  upcast: UpcastFn = defaultUpcast,
): Promise<RecordedEvent<Event>[]> {
  const rows: EventRow[] = await db.query(
    `SELECT ${COLUMNS} FROM events WHERE correlation_id = $1 AND global_position < $2 AND global_position > $3 ORDER BY global_position`,
    [correlationId, beforePosition, afterPosition],
  );
  return rows.map((row) => toRecordedEvent(row, upcast));
}

/** Also used inside subscriber transactions, hence the free function over any query runner. */
export async function readEventsAfter(
  db: Pick<DataSource | QueryRunner, 'query'>,
  position: number,
  limit: number,
  upcast: UpcastFn,
  upTo = Number.MAX_SAFE_INTEGER,
): Promise<RecordedEvent<Event>[]> {
  const rows: EventRow[] = await db.query(
    // Positions are gapless, so the next `limit` events are exactly the next `limit` positions: a closed range keeps
    // the plan an index range scan even before the table has statistics (a fresh or bulk-loaded store).
    `SELECT ${COLUMNS} FROM events WHERE global_position > $1 AND global_position <= LEAST($1 + $2, $3) ORDER BY global_position`,
    [position, limit, upTo],
  );
  return rows.map((row) => toRecordedEvent(row, upcast));
}
