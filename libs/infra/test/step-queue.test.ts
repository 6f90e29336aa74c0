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
  await db.query(`CREATE TABLE runs (job text NOT NULL, runner text NOT NULL, started timestamptz NOT NULL DEFAULT clock_timestamp(), finished timestamptz)`);
});
afterAll(async () => {
  await db.destroy();
  await database.drop();
});

const enqueue = (step: string, ids: string[]) => db.transaction((tx) => enqueueSteps(tx, step, ids.map((id) => ({ id, payload: { id } }))));
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
    await eventually(async () => (await db.query(`SELECT count(*)::int AS n FROM pipeline_jobs WHERE step = 'compete' AND done_at IS NULL`))[0].n === 0, 30_000);
    await Promise.all(runners.map((runner) => runner.close()));
    const perJob = await db.query(`SELECT job, count(*)::int AS runs, count(DISTINCT runner)::int AS runners FROM runs WHERE job LIKE 'compete:%' GROUP BY job`);
    expect(perJob).toHaveLength(30);
    expect(perJob.every((row: { runs: number }) => row.runs === 1)).toBe(true);
    const runnersUsed = new Set((await db.query(`SELECT DISTINCT runner FROM runs WHERE job LIKE 'compete:%'`)).map((row: { runner: string }) => row.runner));
    expect(runnersUsed.size).toBe(2);
  });

  it('retries a job that fails or throws, with the attempt count', async () => {
    const seen: number[] = [];
    const runner = await runSteps<{ id: string }>(db, database.url, "flaky", { concurrency: 1, logger: silentLogger }, async (job) => {
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
    const runner = await runSteps<{ id: string }>(db, database.url, 'severed', { concurrency: 1, logger: silentLogger, reconnectMs: 100 }, async (job, signal) => {
      signals.push(signal);
      if (job.attempts === 1) {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return { done: false, retryAfterMs: 0, error: 'aborted' };
      }
      return { done: true };
    });
    await enqueue('severed', ['severed:1']);
    await eventually(async () => signals.length === 1, 10_000);
    await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'faasline-steps-severed'`);
    await eventually(async () => (await db.query(`SELECT done_at FROM pipeline_jobs WHERE id = 'severed:1'`))[0].done_at !== null, 30_000);
    await runner.close();
    expect(signals[0]!.aborted).toBe(true);
    expect(signals).toHaveLength(2);
  });
});
