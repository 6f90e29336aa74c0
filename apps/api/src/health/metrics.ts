import { Gauge, Registry } from 'prom-client';
import { collectProcessMetrics, metricsRegistry, type Backlog, type EventStore } from '#infra';
import { READ_MODELS_SUBSCRIBER } from '#projections';

/**
 * `/metrics`: the process's own series, and the backbone's read at each scrape: how far the log got and how far
 * each subscriber is behind. The backbone's have a registry per app: two apps in one process read two backbones.
 */
export function backboneMetrics(store: Pick<EventStore, 'headPosition'>, backlog: Backlog): () => Promise<string> {
  collectProcessMetrics();
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: 'faasline_events_head_position',
    help: 'Global position of the newest committed event.',
    registers,
    async collect() {
      this.set(await store.headPosition());
    },
  });
  new Gauge({
    name: 'faasline_outbox_pending',
    help: 'Events committed but not yet acknowledged by Kafka.',
    registers,
    async collect() {
      this.set(await backlog.outboxPending());
    },
  });
  new Gauge({
    name: 'faasline_subscriber_lag_events',
    help: 'Committed events a subscriber has not applied yet.',
    labelNames: ['subscriber'],
    registers,
    async collect() {
      const [head, checkpoints] = await Promise.all([store.headPosition(), backlog.checkpoints()]);
      this.reset();
      for (const row of checkpoints) this.set({ subscriber: row.subscriber }, head - row.position);
    },
  });
  new Gauge({
    name: 'faasline_projection_lag_seconds',
    help: 'Age of the oldest event the read models have not applied yet.',
    registers,
    async collect() {
      const seconds = await backlog.oldestUnappliedAgeSeconds(READ_MODELS_SUBSCRIBER);
      this.set(Math.round(seconds * 1000) / 1000);
    },
  });
  return async () => `${await registry.metrics()}${await metricsRegistry.metrics()}`;
}

export const METRICS_CONTENT_TYPE = metricsRegistry.contentType;
