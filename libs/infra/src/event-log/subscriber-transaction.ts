import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { Event, RecordedEvent } from '#domain';
import { withLogContext, type LogContext } from '../logger.js';
import { backoffDelay } from '../retry/backoff.js';
import type { CheckpointedHandler } from './event-log.port.js';

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

/** How long a subscriber or the outbox relay waits after `failures` failed batches in a row. */
export const retryDelay = (failures: number) => backoffDelay({ baseMs: 100, maxMs: 5000 }, failures);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Hands a batch to its handler with the log context of the work: the subscriber, and the push and the event
 * that caused what it logs when the batch is one event (or one push's events).
 */
export function handleBatch(
  subscriber: string,
  handler: CheckpointedHandler,
  events: readonly RecordedEvent<Event>[],
  tx: EntityManager,
): Promise<void> {
  const first = events[0]!.metadata;
  const onePush = events.every((event) => event.metadata.correlationId === first.correlationId);
  const fields: LogContext = onePush
    ? { subscriber, correlationId: first.correlationId, ...(events.length === 1 ? { causationId: first.eventId } : {}) }
    : { subscriber };
  return withLogContext(fields, () => handler(events, tx));
}
