import { createHash, randomUUID } from 'node:crypto';
import type { DataSource, QueryRunner } from 'typeorm';
import { upcast as defaultUpcast, type Actor, type Event, type RecordedEvent, type UpcastFn } from '#domain';
import { ReadModelReplay, readEventsAfter, type Logger } from '#infra';
import { projectAuditTrail } from '../projections/audit.projection.js';
import { applyToReadModels, READ_MODELS_LOCK, READ_MODELS_SUBSCRIBER } from '../projections/read-models.js';
import { liveTables, shadowTables, type Queryable, type ReadModelTable } from '../projections/row-projection.js';
import { ShadowLoader } from './shadow-loader.js';
import type { PoolClient } from 'pg';

/** Only one replay at a time, across every process sharing the database. */
const REPLAY_LOCK = 7166740201;
const BATCH = 5000;

export class ReplayAlreadyRunning extends Error {
  override readonly name = 'ReplayAlreadyRunning';
}

export type ReplayReport = Readonly<{
  id: string;
  status: 'running' | 'done' | 'failed';
  /** Who asked for it: `admin:<token>`. */
  actor: string;
  eventsTotal: number;
  eventsProcessed: number;
  checksumBefore: string | null;
  checksumAfter: string | null;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}>;

const tables = Object.keys(liveTables) as ReadModelTable[];

/**
 * Rebuilds every read model from position 0 into shadow tables while the live ones keep answering, then swaps
 * them in one transaction. The swap holds the read models' lock exclusively, so the shadow catches up to
 * exactly what the live projector had committed: the checksums of the two are then comparable, and the live
 * projector carries on from its own checkpoint against the new tables.
 */
export class ReadModelReplayer {
  constructor(
    private readonly db: DataSource,
    private readonly logMode: 'embedded' | 'kafka',
    private readonly logger: Logger,
    private readonly upcast: UpcastFn = defaultUpcast,
    /** Rows per read model the bulk load keeps in memory; small values exercise writing out and reading back. */
    private readonly cacheRows?: number,
  ) {}

  /** Starts a replay in the background; resolves with its id once it is recorded. */
  async start(actor: Actor): Promise<string> {
    const lock = this.db.createQueryRunner();
    await lock.connect();
    const [{ locked }] = await lock.query('SELECT pg_try_advisory_lock($1) AS locked', [REPLAY_LOCK]);
    if (!locked) {
      await lock.release();
      throw new ReplayAlreadyRunning('a replay is already running');
    }
    try {
      // Holding the lock means no replay runs anywhere: a row still "running" belongs to a process that died.
      await lock.query(
        `UPDATE read_model_replays SET status = 'failed', error = 'interrupted', finished_at = now() WHERE status = 'running'`,
      );
      const id = randomUUID();
      await lock.query(`INSERT INTO read_model_replays (id, status, actor, events_total) VALUES ($1, 'running', $2, $3)`, [
        id,
        actor,
        await this.liveCheckpoint(lock),
      ]);
      void this.run(id, lock);
      return id;
    } catch (error) {
      await this.unlock(lock);
      throw error;
    }
  }

  /** Runs a replay to the end (tests, the CLI's wait). */
  async replay(actor: Actor): Promise<ReplayReport> {
    const id = await this.start(actor);
    for (;;) {
      const report = await this.report(id);
      if (report && report.status !== 'running') return report;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async report(id: string): Promise<ReplayReport | null> {
    const row = await this.db.getRepository(ReadModelReplay).findOneBy({ id });
    return (
      row && {
        ...row,
        eventsTotal: Number(row.eventsTotal),
        eventsProcessed: Number(row.eventsProcessed),
        startedAt: row.startedAt.toISOString(),
        finishedAt: row.finishedAt?.toISOString() ?? null,
      }
    );
  }

  private async run(id: string, lock: QueryRunner): Promise<void> {
    const started = Date.now();
    let finished = false;
    try {
      await this.createShadowTables(lock);
      const position = await this.bulkLoad(id, lock);
      await this.createShadowIndexes(lock);
      const { checksumBefore, checksumAfter, eventsProcessed } = await this.swap(position);
      await this.finish(
        lock,
        `status = 'done', events_processed = $3, events_total = GREATEST(events_total, $3), checksum_before = $4, checksum_after = $5`,
        [id, REPLAY_LOCK, eventsProcessed, checksumBefore, checksumAfter],
      );
      finished = true;
      this.logger.info(
        `replay ${id}: ${eventsProcessed} events in ${((Date.now() - started) / 1000).toFixed(1)} s, checksum ${checksumBefore} → ${checksumAfter}`,
      );
    } catch (error) {
      this.logger.error(`replay ${id} failed: ${(error as Error).message}`);
      await this.dropShadowTables(lock).catch(() => undefined);
      finished = await this.finish(lock, `status = 'failed', error = $3`, [id, REPLAY_LOCK, (error as Error).message]).then(
        () => true,
        () => false,
      );
    } finally {
      if (finished) await lock.release();
      else await this.unlock(lock);
    }
  }

  /**
   * Records the outcome and gives up the lock in one statement: whoever sees the run finished can start the next,
   * and a replay that takes the lock in between waits on the row, then finds it no longer running.
   */
  private async finish(lock: QueryRunner, set: string, params: unknown[]): Promise<void> {
    await lock.query(
      `WITH finished AS (UPDATE read_model_replays SET ${set}, finished_at = now() WHERE id = $1 RETURNING id)
       SELECT pg_advisory_unlock($2) FROM finished`,
      params,
    );
  }

  private async unlock(lock: QueryRunner): Promise<void> {
    await lock.query('SELECT pg_advisory_unlock($1)', [REPLAY_LOCK]).catch(() => undefined);
    await lock.release();
  }

  /** How far the live read models are: the events a shadow must hold to be comparable with them. */
  private async liveCheckpoint(db: Queryable): Promise<number> {
    const [row] = await db.query(`SELECT position FROM subscription_checkpoints WHERE subscriber = $1`, [READ_MODELS_SUBSCRIBER]);
    return Number(row?.position ?? 0);
  }

  private async dropShadowTables(db: Queryable): Promise<void> {
    await db.query(`DROP TABLE IF EXISTS ${tables.map((table) => shadowTables[table]).join(', ')}`);
  }

  /** Same columns as the live tables (so rows compare as text), only the primary key until the load is done. */
  private async createShadowTables(db: Queryable): Promise<void> {
    await this.dropShadowTables(db);
    for (const table of tables) {
      const live = liveTables[table];
      const shadow = shadowTables[table];
      await db.query(`CREATE TABLE ${shadow} (LIKE ${live} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
      const [primaryKey] = await db.query(
        `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`,
        [live],
      );
      await db.query(`ALTER TABLE ${shadow} ADD CONSTRAINT ${shadow}_pkey ${primaryKey.def}`);
    }
  }

  /** Built after the load (cheaper than maintaining them row by row), side by side on separate connections. */
  private async createShadowIndexes(db: Queryable): Promise<void> {
    const statements: string[] = [];
    for (const table of tables) {
      for (const index of await this.secondaryIndexes(db, liveTables[table])) {
        statements.push(
          index.def.replace(/^CREATE (UNIQUE )?INDEX (\S+) ON (\S+) /, `CREATE $1INDEX ${index.name}_shadow ON ${shadowTables[table]} `),
        );
      }
    }
    const next = () => statements.shift();
    await Promise.all(
      [1, 2].map(async () => {
        for (let statement = next(); statement !== undefined; statement = next()) await this.db.query(statement);
      }),
    );
  }

  private secondaryIndexes(db: Queryable, table: string): Promise<{ name: string; def: string }[]> {
    return db.query(
      `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
        WHERE i.indrelid = $1::regclass AND NOT i.indisprimary ORDER BY 1`,
      [table],
    );
  }

  /**
   * Brings the shadow tables up to the live checkpoint, in position order: the row folds read the next batch while
   * they fold the current one, and the audit trail of each stretch of the log is written by one statement on a
   * connection of its own meanwhile. The tail that the live projector commits in the meantime is left to the
   * swap.
   */
  private async bulkLoad(id: string, reader: QueryRunner): Promise<number> {
    const writer = this.db.createQueryRunner();
    const auditor = this.db.createQueryRunner();
    const loader = new ShadowLoader((await writer.connect()) as PoolClient, shadowTables, this.cacheRows);
    await auditor.connect();
    let auditing: Promise<void> = Promise.resolve();
    const read = (after: number, upTo: number) => readEventsAfter(reader, after, BATCH, this.upcast, upTo);
    try {
      // Everything up to `position` is in the shadow tables; positions are gapless, so that is `position` events.
      let position = 0;
      let target = await this.liveCheckpoint(this.db);
      let next = read(position, target);
      for (;;) {
        if (position >= target) {
          const moved = await this.liveCheckpoint(this.db);
          if (moved - position < BATCH) break;
          target = moved;
          next = read(position, target);
        }
        const batch = await next;
        const upTo = batch.length === BATCH ? batch.at(-1)!.metadata.globalPosition : target;
        if (upTo < target) next = read(upTo, target);
        await auditing;
        auditing = projectAuditTrail(auditor, shadowTables.audit, { after: position, upTo });
        auditing.catch(() => undefined); // awaited before the next stretch; this only keeps a failure from going unhandled meanwhile
        await loader.apply(batch);
        position = upTo;
        await writer.query(`UPDATE read_model_replays SET events_processed = $2, events_total = GREATEST(events_total, $3) WHERE id = $1`, [
          id,
          position,
          target,
        ]);
      }
      await loader.finish();
      await auditing;
      return position;
    } finally {
      await auditing.catch(() => undefined);
      await writer.release();
      await auditor.release();
    }
  }

  /** `position`: how far the bulk load got; positions are gapless, so that many events are in the shadow tables. */
  private async swap(position: number) {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query('SELECT pg_advisory_xact_lock($1)', [READ_MODELS_LOCK]);
      let processed = position;
      for (let after = position; ;) {
        const tail = await this.appliedLiveAfter(runner, after);
        if (tail.length === 0) break;
        await applyToReadModels(runner, tail, shadowTables);
        processed += tail.length;
        after = tail.at(-1)!.metadata.globalPosition;
      }
      if (this.logMode === 'kafka') await this.skipWhatTheShadowHolds(runner, position);
      const checksumBefore = await readModelChecksum(runner, 'live');
      const checksumAfter = await readModelChecksum(runner, 'shadow');
      for (const table of tables) {
        const live = liveTables[table];
        const shadow = shadowTables[table];
        const indexes = await this.secondaryIndexes(runner, live);
        const [primaryKey] = await runner.query(`SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`, [
          live,
        ]);
        await runner.query(`DROP TABLE ${live}`);
        await runner.query(`ALTER TABLE ${shadow} RENAME TO ${live}`);
        await runner.query(`ALTER TABLE ${live} RENAME CONSTRAINT ${shadow}_pkey TO ${primaryKey.conname}`);
        for (const index of indexes) await runner.query(`ALTER INDEX ${index.name}_shadow RENAME TO ${index.name}`);
      }
      await runner.commitTransaction();
      return { checksumBefore, checksumAfter, eventsProcessed: processed };
    } catch (error) {
      await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  /** The events after `position` that the live read models hold: up to the checkpoint, or per stream on Kafka. */
  private async appliedLiveAfter(db: QueryRunner, position: number): Promise<RecordedEvent<Event>[]> {
    if (this.logMode === 'embedded') return readEventsAfter(db, position, BATCH, this.upcast, await this.liveCheckpoint(db));
    const applied: { stream_id: string; version: number }[] = await db.query(
      `SELECT stream_id, version FROM subscription_streams WHERE subscriber = $1`,
      [READ_MODELS_SUBSCRIBER],
    );
    const versions = new Map(applied.map((row) => [row.stream_id, row.version]));
    const events = await readEventsAfter(db, position, BATCH, this.upcast);
    const held = events.filter((event) => event.metadata.streamVersion <= (versions.get(event.metadata.streamId) ?? 0));
    // Nothing more is held once a whole batch has none: Kafka delivers each stream in order.
    return held.length === 0 && events.length === BATCH ? this.appliedLiveAfter(db, events.at(-1)!.metadata.globalPosition) : held;
  }

  /**
   * On Kafka the live checkpoint is the highest position applied, and a partition can lag behind it: events the
   * shadow already holds are marked applied, so the live projector skips them when they arrive.
   */
  private async skipWhatTheShadowHolds(db: QueryRunner, position: number): Promise<void> {
    await db.query(
      `INSERT INTO subscription_streams (subscriber, stream_id, version)
       SELECT $1, stream_id, max(stream_version) FROM events WHERE global_position <= $2 GROUP BY stream_id
       ON CONFLICT (subscriber, stream_id) DO UPDATE SET version = GREATEST(subscription_streams.version, EXCLUDED.version)`,
      [READ_MODELS_SUBSCRIBER, position],
    );
  }
}

/**
 * An order-independent checksum of the read models: per table, the row count and the sum of a 64-bit hash of each
 * row's text. Equal rows in any physical order give the same value.
 */
export async function readModelChecksum(db: Queryable, which: 'live' | 'shadow'): Promise<string> {
  const names = which === 'live' ? liveTables : shadowTables;
  const parts: string[] = [];
  for (const table of tables) {
    const [row] = await db.query(
      `SELECT count(*)::text AS n, coalesce(sum(hashtextextended(t::text, 0)), 0)::text AS h FROM ${names[table]} t`,
    );
    parts.push(`${table}:${row.n}:${row.h}`);
  }
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
}
