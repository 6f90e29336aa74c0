import type { MigrationInterface, QueryRunner } from 'typeorm';

const STEP = 'fetch-source';
/** The subscriber that enqueued fetches before the pipeline workflow decided them; gone since. */
const OLD_SUBSCRIBER = 'pipeline.fetch-source';
const PROCESS_MANAGER = 'pipeline.process';

/**
 * Whether the subscriber named by parameter `param` had applied event `e`. On Kafka its Postgres side keeps, per
 * stream, the last version it applied (claimUnapplied hands on nothing at or below it, and a stream is one
 * partition, in order), which is exact where the per-partition offsets in Kafka are not to be had from SQL and
 * the checkpoint row only holds the highest position seen. The embedded log writes no stream rows: there the
 * checkpoint is one global position below which everything was applied.
 */
const applied = (param: string) => `CASE
  WHEN EXISTS (SELECT 1 FROM subscription_streams WHERE subscriber = ${param})
  THEN e.stream_version <= coalesce((SELECT version FROM subscription_streams s WHERE s.subscriber = ${param} AND s.stream_id = e.stream_id), 0)
  ELSE e.global_position <= coalesce((SELECT position FROM subscription_checkpoints c WHERE c.subscriber = ${param}), 0)
END`;

/**
 * Fetches are now decided by the pipeline process manager from PushReceived; before, a subscriber of their own
 * enqueued them with the recorded event as payload. An upgraded installation must lose no push and fetch none
 * twice: queued jobs take the payload the step now reads (same id, same group), and the pushes the process
 * manager had already passed (so will never decide on) while the old subscriber had not yet enqueued them are
 * enqueued here. Pushes past the process manager are left to it: it enqueues them under the same ids. A push
 * whose job exists (done jobs are kept) or whose result is recorded is not enqueued again.
 */
export class FetchSourceByWorkflow1764748800000 implements MigrationInterface {
  name = 'FetchSourceByWorkflow1764748800000';

  async up(db: QueryRunner): Promise<void> {
    // A subscriber of a process not yet stopped waits here rather than moving while the positions are compared.
    await db.query('LOCK TABLE subscription_checkpoints, subscription_streams IN EXCLUSIVE MODE');
    await db.query(
      `UPDATE pipeline_jobs SET payload = jsonb_build_object(
         'command', jsonb_build_object('type', 'FetchSource', 'push', payload->'data'),
         'cause', jsonb_build_object('eventId', payload->'metadata'->>'eventId', 'correlationId', payload->'metadata'->>'correlationId'))
       WHERE step = $1 AND NOT payload ? 'command'`,
      [STEP],
    );
    await db.query(
      `INSERT INTO pipeline_jobs (id, step, payload, fair_group)
       SELECT $1 || ':' || e.event_id, $1,
              jsonb_build_object(
                'command', jsonb_build_object('type', 'FetchSource', 'push', e.data),
                'cause', jsonb_build_object('eventId', e.event_id, 'correlationId', e.correlation_id)),
              'owner:' || lower(e.data->>'owner')
         FROM events e
        WHERE e.type = 'PushReceived'
          AND ${applied('$2')} AND NOT ${applied('$3')}
          AND NOT EXISTS (SELECT 1 FROM events r WHERE r.type IN ('SourceFetched', 'SourceRejected') AND r.causation_id = e.event_id::text)
        ORDER BY e.global_position
       ON CONFLICT (id) DO NOTHING`,
      [STEP, PROCESS_MANAGER, OLD_SUBSCRIBER],
    );
    await db.query('DELETE FROM subscription_checkpoints WHERE subscriber = $1', [OLD_SUBSCRIBER]);
    await db.query('DELETE FROM subscription_streams WHERE subscriber = $1', [OLD_SUBSCRIBER]);
  }

  /**
   * Queued jobs take back the recorded event as payload, and the old subscriber starts where the process manager
   * is: every push before it has its job.
   */
  async down(db: QueryRunner): Promise<void> {
    await db.query(
      `UPDATE pipeline_jobs j SET payload = jsonb_build_object('type', e.type, 'data', e.data, 'metadata', jsonb_build_object(
         'eventId', e.event_id, 'streamId', e.stream_id, 'streamVersion', e.stream_version, 'globalPosition', e.global_position,
         'occurredAt', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'correlationId', e.correlation_id, 'causationId', e.causation_id, 'actor', e.actor, 'schemaVersion', e.schema_version))
         FROM events e
        WHERE j.step = $1 AND j.payload ? 'command' AND e.event_id = (j.payload->'cause'->>'eventId')::uuid`,
      [STEP],
    );
    await db.query(
      `INSERT INTO subscription_checkpoints (subscriber, position) SELECT $1, position FROM subscription_checkpoints WHERE subscriber = $2
       ON CONFLICT (subscriber) DO NOTHING`,
      [OLD_SUBSCRIBER, PROCESS_MANAGER],
    );
    await db.query(
      `INSERT INTO subscription_streams (subscriber, stream_id, version) SELECT $1, stream_id, version FROM subscription_streams WHERE subscriber = $2
       ON CONFLICT DO NOTHING`,
      [OLD_SUBSCRIBER, PROCESS_MANAGER],
    );
  }
}
