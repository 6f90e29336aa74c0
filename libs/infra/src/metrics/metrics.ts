import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Event, RecordedEvent } from '#domain';
import { BuildFailure, type Builder } from '../builder/builder.port.js';
import type { EventStore } from '../event-store/event-store.port.js';

/**
 * The process's one metrics registry, scraped at `GET /metrics`. Counters live as long as the process, like
 * Prometheus expects: every instance reports its own.
 */
export const metricsRegistry = new Registry();

let processMetrics = false;
/** Node's own series (heap, event loop lag, CPU, file descriptors), from the first call on. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: metricsRegistry });
}

/** Every label value a counter can take is shown from the start, at 0: a rate over a missing series is no rate. */
const counter = <L extends string>(name: string, help: string, label: L, values: readonly string[]) => {
  const metric = new Counter({ name, help, labelNames: [label], registers: [metricsRegistry] });
  for (const value of values) metric.inc({ [label]: value } as Record<L, string>, 0);
  return metric;
};

export const DELIVERY_OUTCOMES = ['recorded', 'duplicate', 'ignored', 'ping'] as const;
export const REJECTION_REASONS = ['signature', 'payload', 'too_large'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];
export type RejectionReason = (typeof REJECTION_REASONS)[number];

const webhookDeliveries = counter(
  'faasline_webhook_deliveries_total',
  'GitHub deliveries answered 2xx, by outcome.',
  'outcome',
  DELIVERY_OUTCOMES,
);
const webhookRejections = counter(
  'faasline_webhook_rejected_total',
  'GitHub deliveries refused; none of them recorded an event.',
  'reason',
  REJECTION_REASONS,
);

/** Webhook deliveries by outcome: a rejected delivery leaves no event, only this count. */
export const webhookMetrics = {
  accept: (outcome: DeliveryOutcome) => webhookDeliveries.inc({ outcome }),
  reject: (reason: RejectionReason) => webhookRejections.inc({ reason }),
};
export type WebhookMetrics = typeof webhookMetrics;

/** Seconds, from a status report (tens of ms) to a slow build (minutes). */
const durations = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
  new Histogram<L>({
    name,
    help,
    labelNames,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [metricsRegistry],
  });

const stepDuration = durations(
  'faasline_pipeline_step_duration_seconds',
  'Time a pipeline job took, by step and outcome (done, or retry when it failed and runs again).',
  ['step', 'outcome'],
);

/** Starts timing one job of `step`; the returned function records it with its outcome. */
export const timeStep = (step: string) => {
  const end = stepDuration.startTimer({ step });
  return (outcome: 'done' | 'retry') => end({ outcome });
};

const builds = new Counter({
  name: 'faasline_builds_total',
  help: 'Image builds, by outcome (succeeded, failed: the tenant’s build broke, error: the builder did) and language.',
  labelNames: ['outcome', 'lang'],
  registers: [metricsRegistry],
});
const buildDuration = durations('faasline_build_duration_seconds', 'Time an image build took, by outcome and language.', [
  'outcome',
  'lang',
]);

/** The same builder, with every build counted and timed. */
export const measuredBuilder = (builder: Builder): Builder => ({
  kind: builder.kind,
  ...(builder.holds ? { holds: builder.holds.bind(builder) } : {}),
  build: async (request, log, signal) => {
    const started = performance.now();
    const record = (outcome: 'succeeded' | 'failed' | 'error') => {
      builds.inc({ outcome, lang: request.lang });
      buildDuration.observe({ outcome, lang: request.lang }, (performance.now() - started) / 1000);
    };
    try {
      const result = await builder.build(request, log, signal);
      record('succeeded');
      return result;
    } catch (error) {
      record(error instanceof BuildFailure ? 'failed' : 'error');
      throw error;
    }
  },
});

const deploys = counter('faasline_deploys_total', 'Deploys recorded by this process, by outcome.', 'outcome', ['deployed', 'failed']);

const DEPLOY_OUTCOMES: Partial<Record<Event['type'], 'deployed' | 'failed'>> = { FunctionDeployed: 'deployed', DeployFailed: 'failed' };

/** Counts the deploys this process records, from the events as they are committed. */
export function countDeploys(store: Pick<EventStore, 'onAppended'>): () => void {
  return store.onAppended((_head, events: readonly RecordedEvent<Event>[]) => {
    for (const event of events) {
      const outcome = DEPLOY_OUTCOMES[event.type];
      if (outcome) deploys.inc({ outcome });
    }
  });
}
