import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { withLogContext, type LogContext, type Logger } from '../logger.js';
import { timeStep } from '../metrics/metrics.js';
import { backoffDelay } from '../retry/backoff.js';

const JOBS_CHANNEL = 'faasline_jobs';
/** Advisory lock class (int4, the two-key form) for running jobs; the object id is the job id's hash. */
const JOB_LOCK = 716674103;
/** Advisory lock class for a group's running slots: the object id is the hash of `<step>:<group>:<slot>`. */
const GROUP_SLOT_LOCK = 716674104;
const POLL_MS = 2000;
const HOLD_POLL_MS = 500;

/** When a job that failed `attempts` times (counting this one) runs again: after 2 s, 4 s, 8 s... at most a minute. */
export const jobRetryAfterMs = (attempts: number): number => backoffDelay({ baseMs: 1000, maxMs: 60_000 }, attempts);

export type StepJob<P> = Readonly<{ id: string; step: string; payload: P; attempts: number }>;

/** What a worker reports: the job is finished (whatever its business outcome), or worth trying again later. */
export type StepOutcome = Readonly<{ done: true }> | Readonly<{ done: false; retryAfterMs: number; error: string }>;

/**
 * A share of something scarce, counted across every process of the queue: `hold` waits until one of the group's
 * `cap` places is free, then keeps it until the release is called (at the latest when the job ends, or with its
 * connection). A job that takes a place only for part of its work (a build, not the decision to reuse an image)
 * holds it for just that part. Throws once the job is stopped.
 */
export type GroupShare = Readonly<{ hold: (group: string, cap: number) => Promise<() => Promise<void>> }>;

/** `signal` aborts when the runner closes: the job is left to run again after the restart. */
export type StepWorker<P> = (job: StepJob<P>, signal: AbortSignal, share: GroupShare) => Promise<StepOutcome>;

/** `group`: whose work the job is (e.g. an owner); a runner with `fairness` shares its slots out across groups. */
export type QueuedStep = Readonly<{ id: string; payload: unknown; group?: string | null }>;

/**
 * Enqueues steps inside a subscriber's transaction, so each job exists exactly when the subscriber's checkpoint
 * says its event was handled. The id is the idempotency key: enqueueing twice is harmless. One statement per batch.
 */
export async function enqueueSteps(tx: EntityManager, step: string, jobs: readonly QueuedStep[]): Promise<void> {
  if (jobs.length === 0) return;
  await tx.query(
    `WITH queued AS (
       INSERT INTO pipeline_jobs (id, step, payload, fair_group)
       SELECT id, $1, payload, fair_group FROM unnest($2::text[], $3::jsonb[], $4::text[]) AS j(id, payload, fair_group)
       ON CONFLICT (id) DO NOTHING RETURNING 1)
     SELECT pg_notify('${JOBS_CHANNEL}', $1) WHERE EXISTS (SELECT 1 FROM queued)`,
    [step, jobs.map((job) => job.id), jobs.map((job) => JSON.stringify(job.payload)), jobs.map((job) => job.group ?? null)],
  );
}

export type StepRunner = Readonly<{ close: () => Promise<void>; idle: () => boolean }>;

/**
 * Runs the jobs of one step with bounded parallelism, across any number of processes. A running job holds a
 * session advisory lock on a dedicated connection: if the process dies the connection drops, the lock goes with
 * it and another process (or this one restarted) picks the job up at once — no lease to wait out. If that
 * connection is lost while the process lives, its running jobs are aborted (their locks are gone) and it
 * reconnects. Workers must be idempotent: a job interrupted halfway runs again from the start.
 */
export async function runSteps<P>(
  db: DataSource,
  databaseUrl: string,
  step: string,
  options: Readonly<{
    concurrency: number;
    logger: Logger;
    reconnectMs?: number;
    /** Jobs with equal keys never run at the same time, anywhere (e.g. two deploys of one function). Default: the job id. */
    lockKey?: (job: Readonly<{ id: string; payload: P }>) => string;
    /**
     * Share the slots out across the jobs' groups: the next job is the waiting one whose group has the fewest
     * jobs ahead of it (round-robin by group, oldest first within a group), and no group ever runs more than
     * `maxRunningPerGroup` jobs at once anywhere. Without it: oldest first, whoever enqueued it.
     */
    fairness?: Readonly<{ maxRunningPerGroup: number }>;
    /** What the job's log lines say beyond its step and id: the push and the event it was enqueued for. */
    logContext?: (job: StepJob<P>) => LogContext;
  }>,
  worker: StepWorker<P>,
): Promise<StepRunner> {
  const lockKeyOf = options.lockKey ?? ((job: { id: string }) => job.id);
  const running = new Map<string, Promise<void>>();
  // Session locks stack within one session, so this process must also keep its own jobs apart.
  const heldKeys = new Set<string>();
  let closed = false;
  let scanning: Promise<void> | null = null;
  let rescan = false;
  type Session = { client: pg.Client; jobs: AbortController; query: (sql: string, params: unknown[]) => Promise<pg.QueryResult> };
  let session: Session | null = null;

  const connect = async () => {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: `faasline-steps-${step}` });
    // One statement at a time on the lock connection: scans and finishing jobs would otherwise overlap on it.
    let queue: Promise<unknown> = Promise.resolve();
    const query = (sql: string, params: unknown[]) => {
      const next = queue.then(() => client.query(sql, params));
      queue = next.catch(() => undefined);
      return next;
    };
    const current: Session = { client, jobs: new AbortController(), query };
    const lost = (why: string) => {
      if (session !== current) return;
      session = null;
      current.jobs.abort();
      client.end().catch(() => undefined);
      if (closed) return;
      options.logger.error(`step ${step}: lock connection lost (${why}); running jobs stopped, reconnecting`);
      setTimeout(() => void reconnect(), options.reconnectMs ?? 1000);
    };
    client.on('error', (error) => lost(error.message));
    client.on('end', () => lost('closed'));
    client.on('notification', (message) => {
      if (message.payload === step) wake();
    });
    await client.connect();
    await client.query(`LISTEN ${JOBS_CHANNEL}`);
    session = current;
  };

  const reconnect = async () => {
    if (closed) return;
    try {
      await connect();
      wake();
    } catch (error) {
      options.logger.error(`step ${step}: reconnecting: ${(error as Error).message}`);
      setTimeout(() => void reconnect(), options.reconnectMs ?? 1000);
    }
  };

  // A job's group slot, held with its job lock: how many jobs of a group run at once, counted across processes.
  const heldSlots = new Set<string>();
  const slotFreed = new Set<() => void>();
  const claimSlot = async (current: Session, group: string, cap = options.fairness?.maxRunningPerGroup ?? 0): Promise<string | null> => {
    for (let slot = 0; slot < cap; slot++) {
      const slotKey = `${step}:${group}:${slot}`;
      if (heldSlots.has(slotKey)) continue;
      // Reserved before asking: session locks stack, so two jobs of this process asking at once would both get it.
      heldSlots.add(slotKey);
      const locked = await current
        .query('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [GROUP_SLOT_LOCK, slotKey])
        .then((result) => result.rows[0].locked as boolean)
        .catch((error: unknown) => {
          heldSlots.delete(slotKey);
          throw error;
        });
      if (!locked) {
        heldSlots.delete(slotKey);
        continue;
      }
      return slotKey;
    }
    return null;
  };
  const releaseSlot = async (current: Session, slotKey: string | null) => {
    if (slotKey === null) return;
    if (session === current)
      await current.query('SELECT pg_advisory_unlock($1, hashtext($2))', [GROUP_SLOT_LOCK, slotKey]).catch(() => undefined);
    heldSlots.delete(slotKey);
    for (const wake of [...slotFreed]) wake();
  };

  // Places held inside a job; waiting ones look again when a place is freed here, and every half second for other processes'.
  const shareFor = (current: Session, held: Set<string>): GroupShare => ({
    hold: async (group, cap) => {
      const signal = current.jobs.signal;
      for (;;) {
        if (signal.aborted || session !== current) throw new Error(`step ${step}: stopped while waiting for a place of ${group}`);
        const slotKey = await claimSlot(current, `hold:${group}`, cap);
        if (slotKey !== null) {
          held.add(slotKey);
          return async () => {
            if (held.delete(slotKey)) await releaseSlot(current, slotKey);
          };
        }
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            slotFreed.delete(done);
            signal.removeEventListener('abort', done);
            resolve();
          };
          const timer = setTimeout(done, HOLD_POLL_MS);
          slotFreed.add(done);
          signal.addEventListener('abort', done, { once: true });
        });
      }
    },
  });

  // Fair order: rank each waiting job within its group (jobs still running count, they are not done), then take
  // every group's first before any group's second. Jobs without a group are each their own.
  const waitingSql = options.fairness
    ? `SELECT id, payload, group_key FROM (
         SELECT id, payload, seq, coalesce(fair_group, 'job:' || id) AS group_key,
                row_number() OVER (PARTITION BY coalesce(fair_group, 'job:' || id) ORDER BY seq) AS turn
         FROM pipeline_jobs WHERE step = $1 AND done_at IS NULL AND not_before <= now()) waiting
       ORDER BY turn, seq LIMIT 64`
    : `SELECT id, payload, NULL AS group_key FROM pipeline_jobs WHERE step = $1 AND done_at IS NULL AND not_before <= now() ORDER BY seq LIMIT 64`;

  const scan = async () => {
    const current = session;
    if (!current) return;
    const rows: { id: string; payload: P; group_key: string | null }[] = await db.query(waitingSql, [step]);
    const fullGroups = new Set<string>();
    for (const row of rows) {
      if (closed || session !== current || running.size >= options.concurrency) return;
      const key = lockKeyOf(row);
      if (running.has(row.id) || heldKeys.has(key) || (row.group_key !== null && fullGroups.has(row.group_key))) continue;
      const [{ locked }] = (await current.query('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [JOB_LOCK, key])).rows;
      if (!locked) continue;
      heldKeys.add(key);
      const slotKey =
        row.group_key === null
          ? null
          : await claimSlot(current, row.group_key).catch((error: unknown) => {
              heldKeys.delete(key);
              throw error;
            });
      if (row.group_key !== null && slotKey === null) {
        fullGroups.add(row.group_key);
        heldKeys.delete(key);
        await current.query('SELECT pg_advisory_unlock($1, hashtext($2))', [JOB_LOCK, key]);
        continue;
      }
      // Between the scan and the lock another process may have finished it.
      // As a SELECT: TypeORM answers a bare UPDATE … RETURNING with [rows, count] instead of the rows.
      const [claimed] = await db.query(
        `WITH claimed AS (
           UPDATE pipeline_jobs SET attempts = attempts + 1 WHERE id = $1 AND done_at IS NULL AND not_before <= now() RETURNING attempts)
         SELECT attempts FROM claimed`,
        [row.id],
      );
      if (!claimed) {
        heldKeys.delete(key);
        await current.query('SELECT pg_advisory_unlock($1, hashtext($2))', [JOB_LOCK, key]);
        await releaseSlot(current, slotKey);
        continue;
      }
      const job: StepJob<P> = { id: row.id, step, payload: row.payload, attempts: claimed.attempts };
      running.set(
        row.id,
        withLogContext({ ...options.logContext?.(job), step, job: job.id }, () => execute(job, key, slotKey, current)),
      );
    }
  };

  const execute = async (job: StepJob<P>, key: string, slotKey: string | null, current: Session) => {
    const held = new Set<string>();
    const timed = timeStep(step);
    try {
      let outcome: StepOutcome;
      try {
        outcome = await worker(job, current.jobs.signal, shareFor(current, held));
      } catch (error) {
        outcome = { done: false, retryAfterMs: jobRetryAfterMs(job.attempts), error: (error as Error).message };
      }
      timed(outcome.done ? 'done' : 'retry');
      // A finished job is finished whatever happened to the lock: its effects were idempotent appends.
      if (outcome.done) await db.query(`UPDATE pipeline_jobs SET done_at = now() WHERE id = $1`, [job.id]);
      else if (!current.jobs.signal.aborted) {
        options.logger.warn(`step ${step}: job ${job.id} attempt ${job.attempts} failed, retrying: ${outcome.error}`);
        await db.query(`UPDATE pipeline_jobs SET not_before = now() + make_interval(secs => $2), last_error = $3 WHERE id = $1`, [
          job.id,
          outcome.retryAfterMs / 1000,
          outcome.error.slice(0, 2000),
        ]);
      }
    } catch (error) {
      if (!closed) options.logger.error(`step ${step}: job ${job.id}: ${(error as Error).message}`);
    } finally {
      if (session === current) await current.query('SELECT pg_advisory_unlock($1, hashtext($2))', [JOB_LOCK, key]).catch(() => undefined);
      heldKeys.delete(key);
      await releaseSlot(current, slotKey);
      for (const place of held) await releaseSlot(current, place);
      running.delete(job.id);
      wake();
    }
  };

  const wake = () => {
    if (closed) return;
    if (scanning) {
      rescan = true;
      return;
    }
    scanning = (async () => {
      do {
        rescan = false;
        try {
          await scan();
        } catch (error) {
          if (!closed) options.logger.error(`step ${step}: ${(error as Error).message}`);
        }
      } while (rescan && !closed);
      scanning = null;
    })();
  };

  await connect();
  const poll = setInterval(wake, POLL_MS);
  wake();

  return {
    idle: () => running.size === 0,
    close: async () => {
      closed = true;
      clearInterval(poll);
      const current = session;
      current?.jobs.abort();
      await scanning;
      await Promise.allSettled(running.values());
      session = null;
      await current?.client.end().catch(() => undefined);
    },
  };
}
