import type { EntityManager } from 'typeorm';
import type { Event, RecordedEvent } from '#domain';

/**
 * Applies a batch of events. `tx` is the subscriber's open Postgres transaction: every effect written through
 * it commits together with the subscriber's checkpoint, or not at all.
 */
export type CheckpointedHandler = (events: readonly RecordedEvent<Event>[], tx: EntityManager) => Promise<void>;

export type SubscribeOptions = Readonly<{
  batchSize?: number;
  /**
   * A Postgres advisory lock each batch holds shared for its whole transaction, taken before anything else: whoever
   * holds it exclusively (a read-model swap) sees no batch half-applied and stalls the next ones.
   */
  sharedLock?: number;
}>;

export interface Subscription {
  readonly subscriber: string;
  close(): Promise<void>;
}

/** The log every consumer reads: Kafka when configured, else the events table itself. */
export interface EventLog {
  readonly mode: 'embedded' | 'kafka';
  /** Starts publishing (the outbox relay, for Kafka). */
  start(): Promise<void>;
  /** Throws when the log cannot be reached (readiness). */
  checkReachable(): Promise<void>;
  subscribe(subscriber: string, handler: CheckpointedHandler, options?: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}
