import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

/** Runs `work` in one transaction on a dedicated connection; commits only if it returns. */
export async function inTransaction<T>(db: DataSource, work: (runner: QueryRunner, tx: EntityManager) => Promise<T>): Promise<T> {
  const runner = db.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  try {
    const result = await work(runner, runner.manager);
    await runner.commitTransaction();
    return result;
  } catch (error) {
    await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}

/** Takes `SubscribeOptions.sharedLock` as the first statement of a batch's transaction. */
export async function takeSharedLock(runner: QueryRunner, lock: number | undefined): Promise<void> {
  if (lock !== undefined) await runner.query('SELECT pg_advisory_xact_lock_shared($1)', [lock]);
}

export const retryDelay = (failures: number) => Math.min(5000, 100 * 2 ** Math.min(failures, 6));

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
