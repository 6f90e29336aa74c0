import type { DataSource } from 'typeorm';
import { upcast as defaultUpcast, type UpcastFn } from '#domain';
import { readEventsAfter } from '../event-store/postgres.adapter.js';
import type { Logger } from '../logger.js';
import type { AppendSignal } from './append-signal.js';
import type { CheckpointedHandler, EventLog, SubscribeOptions, Subscription } from './event-log.port.js';
import { handleBatch, inTransaction, retryDelay, sleep, takeSharedLock } from './subscriber-transaction.js';

/** Notifications can be lost while a LISTEN connection reconnects; this bounds how long that could stall. */
const SAFETY_WAKE_MS = 10_000;

/**
 * The log when there is no Kafka: subscribers read the events table in global-position order. Positions are
 * gapless and in commit order, so a checkpoint is one number, and it commits with the handler's effects.
 */
export class EmbeddedEventLog implements EventLog {
  readonly mode = 'embedded' as const;
  private readonly subscriptions = new Set<EmbeddedSubscription>();

  constructor(
    private readonly db: DataSource,
    private readonly signal: AppendSignal,
    private readonly log: Logger,
    private readonly upcast: UpcastFn = defaultUpcast,
  ) {}

  /** Nothing to publish: appending to the events table is publishing. */
  async start(): Promise<void> {}

  /** The log is the events table: reachable whenever the database is. */
  async checkReachable(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async subscribe(subscriber: string, handler: CheckpointedHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    const subscription = new EmbeddedSubscription(subscriber, handler, options, this.db, this.signal, this.log, this.upcast);
    this.subscriptions.add(subscription);
    subscription.run(() => this.subscriptions.delete(subscription));
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
  }
}

class EmbeddedSubscription implements Subscription {
  private closed = false;
  private stopped: Promise<void> = Promise.resolve();
  private wakeOnClose: () => void = () => {};
  private readonly closing = new Promise<void>((resolve) => (this.wakeOnClose = resolve));

  constructor(
    readonly subscriber: string,
    private readonly handler: CheckpointedHandler,
    private readonly options: SubscribeOptions,
    private readonly db: DataSource,
    private readonly signal: AppendSignal,
    private readonly log: Logger,
    private readonly upcast: UpcastFn,
  ) {}

  run(onStop: () => void): void {
    this.stopped = this.loop().finally(onStop);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeOnClose();
    await this.stopped;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const seen = this.signal.current();
      try {
        const applied = await this.applyNextBatch();
        failures = 0;
        if (applied < (this.options.batchSize ?? 500)) await Promise.race([this.signal.waitFor(seen, SAFETY_WAKE_MS), this.closing]);
      } catch (error) {
        failures += 1;
        this.log.error(`subscriber ${this.subscriber}: batch failed, retrying (${(error as Error).message})`);
        await Promise.race([sleep(retryDelay(failures)), this.closing]);
      }
    }
  }

  /** Locks this subscriber's checkpoint row: a second instance of the same subscriber waits, never re-applies. */
  private applyNextBatch(): Promise<number> {
    return inTransaction(this.db, async (runner, tx) => {
      await takeSharedLock(runner, this.options.sharedLock);
      await runner.query(`INSERT INTO subscription_checkpoints (subscriber, position) VALUES ($1, 0) ON CONFLICT (subscriber) DO NOTHING`, [
        this.subscriber,
      ]);
      const [checkpoint] = await runner.query(`SELECT position FROM subscription_checkpoints WHERE subscriber = $1 FOR UPDATE`, [
        this.subscriber,
      ]);
      const events = await readEventsAfter(runner, Number(checkpoint.position), this.options.batchSize ?? 500, this.upcast);
      if (events.length === 0) return 0;
      await handleBatch(this.subscriber, this.handler, events, tx);
      await runner.query(`UPDATE subscription_checkpoints SET position = $2, updated_at = now() WHERE subscriber = $1`, [
        this.subscriber,
        events.at(-1)!.metadata.globalPosition,
      ]);
      return events.length;
    });
  }
}
