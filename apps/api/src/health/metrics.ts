import type { Backbone } from '#infra';
import { READ_MODELS_SUBSCRIBER } from '#projector';

/** Prometheus text exposition of the backbone: how far the log got and how far each subscriber is behind. */
export async function readMetrics(backbone: Backbone): Promise<string> {
  const head = await backbone.store.headPosition();
  const [outbox] = await backbone.db.query(`SELECT count(*)::bigint AS pending FROM outbox`);
  const checkpoints: { subscriber: string; position: string }[] = await backbone.db.query(
    `SELECT subscriber, position FROM subscription_checkpoints ORDER BY subscriber`,
  );
  // How old the oldest event the read models have not applied is: zero when they are current.
  const [lag] = await backbone.db.query(
    `SELECT coalesce(extract(epoch FROM now() - min(e.occurred_at)), 0)::float AS seconds
       FROM subscription_checkpoints c JOIN events e ON e.global_position = c.position + 1
      WHERE c.subscriber = $1`,
    [READ_MODELS_SUBSCRIBER],
  );
  const lines = [
    '# HELP faasline_events_head_position Global position of the newest committed event.',
    '# TYPE faasline_events_head_position gauge',
    `faasline_events_head_position ${head}`,
    '# HELP faasline_outbox_pending Events committed but not yet acknowledged by Kafka.',
    '# TYPE faasline_outbox_pending gauge',
    `faasline_outbox_pending ${outbox.pending}`,
    '# HELP faasline_subscriber_lag_events Committed events a subscriber has not applied yet.',
    '# TYPE faasline_subscriber_lag_events gauge',
    ...checkpoints.map(
      (row) => `faasline_subscriber_lag_events{subscriber="${row.subscriber.replace(/["\\\n]/g, '_')}"} ${head - Number(row.position)}`,
    ),
    '# HELP faasline_projection_lag_seconds Age of the oldest event the read models have not applied yet.',
    '# TYPE faasline_projection_lag_seconds gauge',
    `faasline_projection_lag_seconds ${Number(lag?.seconds ?? 0).toFixed(3)}`,
  ];
  return `${lines.join('\n')}\n`;
}
