import pg from 'pg';
import type { EventStore } from '../event-store/event-store.port.js';
import { EVENTS_CHANNEL } from '../event-store/postgres.adapter.js';
import type { Logger } from '../logger.js';

/**
 * Wakes waiting readers when events are appended: directly for appends in this process, through Postgres
 * LISTEN/NOTIFY for appends in others. A generation counter closes the gap between "read nothing" and
 * "start waiting", so no append is slept through.
 */
export class AppendSignal {
  private generation = 0;
  private waiters = new Set<() => void>();
  private client: pg.Client | null = null;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly databaseUrl: string,
    store: EventStore,
    private readonly log: Logger,
  ) {
    this.unsubscribe = store.onAppended(() => this.notify());
  }

  async start(): Promise<void> {
    await this.listen();
  }

  current(): number {
    return this.generation;
  }

  /** Resolves once anything was appended after `seen`, or after `timeoutMs` as a safety net. */
  waitFor(seen: number, timeoutMs: number): Promise<void> {
    if (this.generation !== seen || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs).unref();
      this.waiters.add(done);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    this.notify();
    await this.client?.end().catch(() => undefined);
  }

  private notify(): void {
    this.generation += 1;
    for (const wake of [...this.waiters]) wake();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'faasline-listen' });
    client.on('notification', () => this.notify());
    client.on('error', (error) => {
      if (this.closed) return;
      this.log.warn(`event notifications lost (${error.message}); reconnecting`);
      this.client = null;
      void client.end().catch(() => undefined);
      setTimeout(() => void this.reconnect(), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    this.client = client;
    // Anything appended while we were not listening is found by the readers' next read.
    this.notify();
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    await this.listen().catch((error: Error) => {
      this.log.warn(`event notifications still unavailable (${error.message})`);
      setTimeout(() => void this.reconnect(), 2000).unref();
    });
  }
}
