import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { enqueueSteps, openDataSource, runSteps, silentLogger, type StepRunner } from '#infra';
import { eventually } from './support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from './support/test-database.js';

let database: TestDatabase;
let db: DataSource;

beforeAll(async () => {
  database = await provisionTestDatabase();
  db = await openDataSource(database.url, { poolSize: 20 });
  await db.query(
    `CREATE TABLE runs (job text NOT NULL, runner text NOT NULL, started timestamptz NOT NULL DEFAULT clock_timestamp(), finished timestamptz)`,
  );
});
afterAll(async () => {
  await db.destroy();
  await database.drop();
});

const enqueue = (step: string, ids: string[]) =>
  db.transaction((tx) =>
    enqueueSteps(
      tx,
      step,
      ids.map((id) => ({ id, payload: { id } })),
    ),
  );
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('step queue', () => {
  it('runs every job to completion once across two competing runners, never the same job at the same time', async () => {
    const worker = (runner: string) => async (job: { id: string }) => {
      const [{ ctid }] = await db.query(`INSERT INTO runs (job, runner) VALUES ($1, $2) RETURNING ctid::text`, [job.id, runner]);
      await sleep(15);
      await db.query(`UPDATE runs SET finished = clock_timestamp() WHERE ctid = $1::tid`, [ctid]);
      return { done: true } as const;
    };
    const runners: StepRunner[] = await Promise.all(
      ['a', 'b'].map((name) => runSteps(db, database.url, 'compete', { concurrency: 3, logger: silentLogger }, worker(name))),
    );
    const ids = Array.from({ length: 30 }, (_, i) => `compete:${i}`);
    await enqueue('compete', ids);
    await enqueue('compete', ids.slice(0, 10)); // enqueueing again changes nothing
    await eventually(
      async () => (await db.query(`SELECT count(*)::int AS n FROM pipeline_jobs WHERE step = 'compete' AND done_at IS NULL`))[0].n === 0,
      30_000,
    );
    await Promise.all(runners.map((runner) => runner.close()));
    const perJob = await db.query(
      `SELECT job, count(*)::int AS runs, count(DISTINCT runner)::int AS runners FROM runs WHERE job LIKE 'compete:%' GROUP BY job`,
    );
    expect(perJob).toHaveLength(30);
    expect(perJob.every((row: { runs: number }) => row.runs === 1)).toBe(true);
    const runnersUsed = new Set(
      (await db.query(`SELECT DISTINCT runner FROM runs WHERE job LIKE 'compete:%'`)).map((row: { runner: string }) => row.runner),
    );
    expect(runnersUsed.size).toBe(2);
  });

  it('retries a job that fails or throws, with the attempt count', async () => {
    const seen: number[] = [];
    const runner = await runSteps<{ id: string }>(db, database.url, 'flaky', { concurrency: 1, logger: silentLogger }, async (job) => {
      seen.push(job.attempts);
      if (job.attempts === 1) throw new Error('boom');
      if (job.attempts === 2) return { done: false, retryAfterMs: 10, error: 'not yet' };
      return { done: true };
    });
    await enqueue('flaky', ['flaky:1']);
    await eventually(async () => (await db.query(`SELECT done_at FROM pipeline_jobs WHERE id = 'flaky:1'`))[0].done_at !== null, 30_000);
    await runner.close();
    expect(seen).toEqual([1, 2, 3]);
  });

  it('stops a running job when its lock connection is lost, reconnects and runs it again', async () => {
    const signals: AbortSignal[] = [];
    const runner = await runSteps<{ id: string }>(
      db,
      database.url,
      'severed',
      { concurrency: 1, logger: silentLogger, reconnectMs: 100 },
      async (job, signal) => {
        signals.push(signal);
        if (job.attempts === 1) {
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          return { done: false, retryAfterMs: 0, error: 'aborted' };
        }
        return { done: true };
      },
    );
    await enqueue('severed', ['severed:1']);
    await eventually(async () => signals.length === 1, 10_000);
    await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'faasline-steps-severed'`);
    await eventually(async () => (await db.query(`SELECT done_at FROM pipeline_jobs WHERE id = 'severed:1'`))[0].done_at !== null, 30_000);
    await runner.close();
    expect(signals[0]!.aborted).toBe(true);
    expect(signals).toHaveLength(2);
  });

  describe('with fairness across groups', () => {
    type Run = { job: string; runner: string; started: Date; finished: Date };
    /** Jobs held until the test releases them: the order of starts is decided by signals, not by this machine's speed. */
    const held = new Map<string, () => void>();
    const holding = (prefix: string) => [...held.keys()].filter((id) => id.startsWith(prefix));
    const release = (id: string) => {
      held.get(id)!();
      held.delete(id);
    };
    const heldWorker = (runner: string) => async (job: { id: string }) => {
      const [{ ctid }] = await db.query(`INSERT INTO runs (job, runner) VALUES ($1, $2) RETURNING ctid::text`, [job.id, runner]);
      await new Promise<void>((resolve) => held.set(job.id, resolve));
      await db.query(`UPDATE runs SET finished = clock_timestamp() WHERE ctid = $1::tid`, [ctid]);
      return { done: true } as const;
    };
    const enqueueFor = (step: string, group: string, count: number) =>
      db.transaction((tx) =>
        enqueueSteps(
          tx,
          step,
          Array.from({ length: count }, (_, i) => ({ id: `${step}:${group}:${i}`, payload: {}, group })),
        ),
      );
    const runsOf = async (step: string): Promise<Run[]> =>
      db.query(`SELECT job, runner, started, finished FROM runs WHERE job LIKE $1 ORDER BY started`, [`${step}:%`]);
    const allDone = async (step: string) =>
      (await db.query(`SELECT count(*)::int AS n FROM pipeline_jobs WHERE step = $1 AND done_at IS NULL`, [step]))[0].n === 0;
    /** Releases every job of `step` as it starts until all are done. */
    const releaseAll = (step: string) =>
      eventually(async () => {
        holding(`${step}:`).forEach(release);
        return allDone(step);
      }, 30_000);
    /** The most jobs of a group that were running at the same instant. */
    const mostAtOnce = (runs: Run[]) => {
      const edges = runs
        .flatMap(
          (run) =>
            [
              [run.started.getTime(), 1],
              [run.finished.getTime(), -1],
            ] as const,
        )
        .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let now = 0;
      let most = 0;
      for (const [, change] of edges) most = Math.max(most, (now += change));
      return most;
    };

    it("starts another owner's job before one owner's second finishes, across two processes, never past the owner's cap", async () => {
      const runners = await Promise.all(
        ['p1', 'p2'].map((name) =>
          runSteps(
            db,
            database.url,
            'fair',
            { concurrency: 2, logger: silentLogger, fairness: { maxRunningPerGroup: 1 } },
            heldWorker(name),
          ),
        ),
      );
      await enqueueFor('fair', 'owner-a', 4);
      await eventually(async () => holding('fair:owner-a:').length === 1, 10_000);
      await enqueueFor('fair', 'owner-b', 1);
      // A free slot was there: B starts while A's first job is still held.
      await eventually(async () => holding('fair:owner-b:').length === 1, 10_000);
      expect(holding('fair:owner-a:')).toEqual(['fair:owner-a:0']);
      await releaseAll('fair');
      await Promise.all(runners.map((runner) => runner.close()));
      const runs = await runsOf('fair');
      const ownerA = runs.filter((run) => run.job.startsWith('fair:owner-a:'));
      const ownerB = runs.filter((run) => run.job.startsWith('fair:owner-b:'));
      expect(ownerA).toHaveLength(4);
      expect(ownerB).toHaveLength(1);
      expect(ownerB[0]!.started.getTime()).toBeLessThan(ownerA[1]!.finished.getTime());
      expect(ownerB[0]!.started.getTime()).toBeLessThan(ownerA[0]!.finished.getTime());
      expect(mostAtOnce(ownerA)).toBe(1);
    });

    it("takes every waiting group's next job before a group's further ones, up to each group's cap", async () => {
      const runner = await runSteps(
        db,
        database.url,
        'turns',
        { concurrency: 2, logger: silentLogger, fairness: { maxRunningPerGroup: 2 } },
        heldWorker('p1'),
      );
      await enqueueFor('turns', 'owner-a', 4);
      await eventually(async () => holding('turns:').length === 2, 10_000);
      await enqueueFor('turns', 'owner-b', 1);
      // A holds both slots (nobody else waited); the first slot freed goes to B, not to A's third job.
      release(holding('turns:owner-a:')[0]!);
      await eventually(async () => holding('turns:').length === 2, 10_000);
      expect(holding('turns:owner-b:')).toEqual(['turns:owner-b:0']);
      await releaseAll('turns');
      await runner.close();
      const runs = await runsOf('turns');
      const order = runs.map((run) => run.job);
      expect(order.slice(0, 2).every((job) => job.startsWith('turns:owner-a:'))).toBe(true);
      expect(order[2]).toBe('turns:owner-b:0');
      expect(mostAtOnce(runs.filter((run) => run.job.startsWith('turns:owner-a:')))).toBe(2);
    });

    it('keeps a group at its cap even with idle slots', async () => {
      const runner = await runSteps(
        db,
        database.url,
        'capped',
        { concurrency: 4, logger: silentLogger, fairness: { maxRunningPerGroup: 2 } },
        heldWorker('p1'),
      );
      await enqueueFor('capped', 'owner-a', 5);
      await eventually(async () => holding('capped:').length === 2, 10_000);
      await releaseAll('capped');
      await runner.close();
      const runs = await runsOf('capped');
      expect(runs).toHaveLength(5);
      expect(mostAtOnce(runs)).toBe(2);
    });
  });

  it("holds a group's places across processes for part of a job only: other groups go on, and the rest of the job never waits", async () => {
    type Job = { group: string; build: boolean };
    /** Builds held until the test releases them. */
    const builds = new Map<string, () => void>();
    const worker =
      (runner: string) =>
      async (
        job: { id: string; payload: Job },
        _signal: AbortSignal,
        share: { hold: (group: string, cap: number) => Promise<() => Promise<void>> },
      ) => {
        if (!job.payload.build) {
          await db.query(`INSERT INTO runs (job, runner, finished) VALUES ($1, $2, clock_timestamp())`, [job.id, runner]);
          return { done: true } as const;
        }
        const release = await share.hold(job.payload.group, 1);
        try {
          const [{ ctid }] = await db.query(`INSERT INTO runs (job, runner) VALUES ($1, $2) RETURNING ctid::text`, [job.id, runner]);
          await new Promise<void>((resolve) => builds.set(job.id, resolve));
          await db.query(`UPDATE runs SET finished = clock_timestamp() WHERE ctid = $1::tid`, [ctid]);
        } finally {
          await release();
        }
        return { done: true } as const;
      };
    const runners = await Promise.all(
      ['p1', 'p2'].map((name) => runSteps<Job>(db, database.url, 'held', { concurrency: 3, logger: silentLogger }, worker(name))),
    );
    const jobs = [
      ...[0, 1, 2, 3].map((i) => ({ id: `held:a:build:${i}`, payload: { group: 'a', build: true } })),
      ...[0, 1].map((i) => ({ id: `held:a:quick:${i}`, payload: { group: 'a', build: false } })),
      { id: 'held:b:build:0', payload: { group: 'b', build: true } },
    ];
    await db.transaction((tx) => enqueueSteps(tx, 'held', jobs));
    // Both groups' first builds run and the quick jobs finish while A's first build is still held.
    const quickDone = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM runs WHERE job LIKE 'held:a:quick:%' AND finished IS NOT NULL`))[0].n === 2;
    await eventually(
      async () => builds.has('held:b:build:0') && [...builds.keys()].some((id) => id.startsWith('held:a:build:')) && (await quickDone()),
      10_000,
    );
    expect([...builds.keys()].filter((id) => id.startsWith('held:a:build:'))).toHaveLength(1);
    await eventually(async () => {
      for (const [id, resolve] of builds) {
        builds.delete(id);
        resolve();
      }
      return (await db.query(`SELECT count(*)::int AS n FROM pipeline_jobs WHERE step = 'held' AND done_at IS NULL`))[0].n === 0;
    }, 30_000);
    await Promise.all(runners.map((runner) => runner.close()));
    const runs: { job: string; started: Date; finished: Date }[] = await db.query(
      `SELECT job, started, finished FROM runs WHERE job LIKE 'held:%' ORDER BY started`,
    );
    const aBuilds = runs.filter((run) => run.job.startsWith('held:a:build:'));
    expect(aBuilds).toHaveLength(4);
    aBuilds.slice(1).forEach((run, i) => expect(run.started.getTime()).toBeGreaterThanOrEqual(aBuilds[i]!.finished.getTime()));
    const bBuild = runs.find((run) => run.job === 'held:b:build:0')!;
    expect(bBuild.started.getTime()).toBeLessThan(aBuilds[0]!.finished.getTime());
    const quick = runs.filter((run) => run.job.startsWith('held:a:quick:'));
    expect(quick.every((run) => run.finished.getTime() < aBuilds[1]!.started.getTime())).toBe(true);
  });
});
