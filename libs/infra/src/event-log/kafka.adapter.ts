import { Kafka, logLevel, Partitioners, type Consumer, type KafkaMessage, type LogEntry, type Producer } from 'kafkajs';
import type { DataSource, QueryRunner } from 'typeorm';
import { upcast as defaultUpcast, type Event, type RecordedEvent, type UpcastFn } from '#domain';
import type { Logger } from '../logger.js';
import type { AppendSignal } from './append-signal.js';
import type { CheckpointedHandler, EventLog, SubscribeOptions, Subscription } from './event-log.port.js';
import { handleBatch, inTransaction, retryDelay, sleep, takeSharedLock } from './subscriber-transaction.js';
import { readOutbox, markPublished, RELAY_LOCK } from './outbox.js';

export type KafkaSettings = Readonly<{
  brokers: readonly string[];
  topic: string;
  partitions: number;
  replicationFactor: number;
  clientId: string;
}>;

/**
 * The log on Kafka. The outbox relay publishes committed events keyed by stream id (so one stream stays in one
 * partition, in order); consumers in a group per subscriber apply them in Postgres transactions that also
 * record, per stream, the last version applied: redeliveries from the at-least-once relay or from a rebalance
 * are skipped there.
 */
export class KafkaEventLog implements EventLog {
  readonly mode = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private relay: OutboxRelay | null = null;
  private topicReady: Promise<void> | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly settings: KafkaSettings,
    private readonly signal: AppendSignal,
    private readonly log: Logger,
    private readonly upcast: UpcastFn = defaultUpcast,
  ) {
    this.kafka = new Kafka({
      clientId: settings.clientId,
      brokers: [...settings.brokers],
      logLevel: logLevel.ERROR,
      logCreator: () => (entry: LogEntry) => log.warn(`kafka ${entry.namespace}: ${entry.log.message}`),
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5000 },
    });
  }

  /** Creates the topic if missing, once per process: infinite retention, never compacted, auto-creation is off on the broker. */
  ensureTopic(): Promise<void> {
    this.topicReady ??= this.createTopic().catch((error) => {
      this.topicReady = null; // a broker that was down is asked again next time
      throw error;
    });
    return this.topicReady;
  }

  private async createTopic(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = await admin.listTopics();
      if (existing.includes(this.settings.topic)) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: this.settings.topic,
            numPartitions: this.settings.partitions,
            replicationFactor: this.settings.replicationFactor,
            configEntries: [
              { name: 'retention.ms', value: '-1' },
              { name: 'retention.bytes', value: '-1' },
              { name: 'cleanup.policy', value: 'delete' },
            ],
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
  }

  async checkReachable(): Promise<void> {
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    await admin.connect();
    try {
      await admin.fetchTopicMetadata({ topics: [this.settings.topic] });
    } finally {
      await admin.disconnect();
    }
  }

  /** Starts the outbox relay in this process (one relay publishes at a time across processes). */
  async start(): Promise<void> {
    await this.ensureTopic();
    this.relay = new OutboxRelay(this.db, this.kafka, this.settings.topic, this.signal, this.log);
    this.relay.start();
  }

  async subscribe(subscriber: string, handler: CheckpointedHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    await this.ensureTopic();
    const subscription = new KafkaSubscription(
      subscriber,
      handler,
      options,
      this.db,
      this.kafka,
      this.settings.topic,
      this.log,
      this.upcast,
    );
    await subscription.start();
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    this.subscriptions.clear();
    await this.relay?.close();
  }
}

export const encodeEvent = (event: RecordedEvent<Event>) => ({
  key: event.metadata.streamId,
  value: JSON.stringify({ type: event.type, data: event.data, metadata: event.metadata }),
  headers: { 'event-type': event.type, 'event-id': event.metadata.eventId },
});

export function decodeEvent(message: KafkaMessage, upcast: UpcastFn): RecordedEvent<Event> {
  const stored = JSON.parse(message.value!.toString('utf8')) as RecordedEvent<Event>;
  const current = upcast({ type: stored.type, schemaVersion: stored.metadata.schemaVersion, data: stored.data });
  return { type: current.type, data: current.data, metadata: { ...stored.metadata, schemaVersion: current.schemaVersion } };
}

class OutboxRelay {
  private closed = false;
  private stopped: Promise<void> = Promise.resolve();
  private producer: Producer | null = null;
  private leader: QueryRunner | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly signal: AppendSignal,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = this.loop();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stopped;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const seen = this.signal.current();
      try {
        if (!(await this.lead())) {
          await this.signal.waitFor(seen, 2000);
          continue;
        }
        const published = await this.publishBatch();
        failures = 0;
        if (published === 0) await this.signal.waitFor(seen, 5000);
      } catch (error) {
        failures += 1;
        this.log.warn(`outbox relay: publish failed, retrying (${(error as Error).message})`);
        // A producer that failed repeatedly may hold a stale idempotence epoch: start a fresh one.
        if (failures % 3 === 0) await this.resetProducer();
        await sleep(retryDelay(failures));
      }
    }
    await this.resetProducer();
    await this.resign();
  }

  /** One relay at a time keeps the per-stream order of the topic: leadership is a Postgres session lock. */
  private async lead(): Promise<boolean> {
    if (this.leader) return true;
    const runner = this.db.createQueryRunner();
    await runner.connect();
    const [row] = await runner.query(`SELECT pg_try_advisory_lock(${RELAY_LOCK}) AS acquired`);
    if (row.acquired) {
      this.leader = runner;
      return true;
    }
    await runner.release();
    return false;
  }

  private async resign(): Promise<void> {
    if (!this.leader) return;
    await this.leader.query(`SELECT pg_advisory_unlock(${RELAY_LOCK})`).catch(() => undefined);
    await this.leader.release();
    this.leader = null;
  }

  private async publishBatch(): Promise<number> {
    const leader = this.leader!;
    const events = await readOutbox(leader, 500).catch(async (error) => {
      await this.resign(); // the session may be gone, and the lock with it
      throw error;
    });
    if (events.length === 0) return 0;
    const producer = await this.connectedProducer();
    // Marked only after every broker acknowledged (acks=all): a crash in between republishes, never loses.
    await producer.send({ topic: this.topic, acks: -1, messages: events.map(encodeEvent) });
    await markPublished(leader, events);
    return events.length;
  }

  private async connectedProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    this.producer = producer;
    return producer;
  }

  private async resetProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    await producer?.disconnect().catch(() => undefined);
  }
}

class KafkaSubscription implements Subscription {
  private consumer: Consumer | null = null;

  constructor(
    readonly subscriber: string,
    private readonly handler: CheckpointedHandler,
    private readonly options: SubscribeOptions,
    private readonly db: DataSource,
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly log: Logger,
    private readonly upcast: UpcastFn,
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      // One group per topic and subscriber: instances on other topics of the same cluster (another faasline, a
      // test) never share partitions with this one. Where a subscriber stands is its checkpoint in Postgres, so a
      // new group id re-reads the topic once and skips what was applied.
      groupId: `${this.topic}.${this.subscriber}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      allowAutoTopicCreation: false,
      // A broker restart must not end the subscription: keep rejoining.
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000, restartOnFailure: async () => true },
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    let failures = 0;
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
        for (let start = 0; start < batch.messages.length; start += this.options.batchSize ?? 500) {
          if (!isRunning() || isStale()) return;
          const chunk = batch.messages.slice(start, start + (this.options.batchSize ?? 500));
          try {
            await this.apply(chunk.map((message) => decodeEvent(message, this.upcast)));
            failures = 0;
          } catch (error) {
            failures += 1;
            this.log.error(`subscriber ${this.subscriber}: batch failed, retrying (${(error as Error).message})`);
            await sleep(retryDelay(failures));
            throw error;
          }
          resolveOffset(chunk.at(-1)!.offset);
          await commitOffsetsIfNecessary();
          await heartbeat();
        }
      },
    });
    this.consumer = consumer;
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    this.consumer = null;
  }

  private apply(events: readonly RecordedEvent<Event>[]): Promise<void> {
    return inTransaction(this.db, async (runner, tx) => {
      await takeSharedLock(runner, this.options.sharedLock);
      const fresh = await claimUnapplied(runner, this.subscriber, events, this.log);
      if (fresh.length > 0) await handleBatch(this.subscriber, this.handler, fresh, tx);
    });
  }
}

/**
 * Locks this subscriber's per-stream versions (in stream order, so two consumers in a rebalance cannot
 * deadlock), keeps only events above them, and moves the versions on: all inside the caller's transaction.
 */
export async function claimUnapplied(
  runner: QueryRunner,
  subscriber: string,
  events: readonly RecordedEvent<Event>[],
  log: Logger,
): Promise<RecordedEvent<Event>[]> {
  const streamIds = [...new Set(events.map((event) => event.metadata.streamId))].sort();
  await runner.query(
    `INSERT INTO subscription_streams (subscriber, stream_id, version)
     SELECT $1, stream_id, 0 FROM unnest($2::text[]) AS stream_id ON CONFLICT DO NOTHING`,
    [subscriber, streamIds],
  );
  const rows: { stream_id: string; version: number }[] = await runner.query(
    `SELECT stream_id, version FROM subscription_streams WHERE subscriber = $1 AND stream_id = ANY($2)
     ORDER BY stream_id FOR UPDATE`,
    [subscriber, streamIds],
  );
  const applied = new Map(rows.map((row) => [row.stream_id, row.version]));
  const fresh = events.filter((event) => {
    const { streamId, streamVersion } = event.metadata;
    const last = applied.get(streamId)!;
    if (streamVersion <= last) return false;
    if (streamVersion > last + 1) log.warn(`subscriber ${subscriber}: ${streamId} jumped from v${last} to v${streamVersion}`);
    applied.set(streamId, streamVersion);
    return true;
  });
  if (fresh.length === 0) return fresh;
  await runner.query(
    `UPDATE subscription_streams s SET version = v.version
     FROM unnest($2::text[], $3::int[]) AS v(stream_id, version)
     WHERE s.subscriber = $1 AND s.stream_id = v.stream_id`,
    [subscriber, [...applied.keys()], [...applied.values()]],
  );
  await runner.query(
    `INSERT INTO subscription_checkpoints (subscriber, position) VALUES ($1, $2)
     ON CONFLICT (subscriber) DO UPDATE SET position = GREATEST(subscription_checkpoints.position, EXCLUDED.position), updated_at = now()`,
    [subscriber, Math.max(...fresh.map((event) => event.metadata.globalPosition))],
  );
  return fresh;
}
