import { withoutServerPaths, type BuildStarted, type FaaslineEvent, type FunctionRejected, type RecordedEvent } from '#domain';
import type { RowProjection } from './row-projection.js';

export type BuildStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'reused' | 'superseded';

/** `GET /api/v1/functions/{name}/builds`: one build; `seq` is its first event's position (newest first). */
export type BuildRow = Readonly<{
  id: string;
  function_name: string;
  owner: string;
  repo: string;
  sha: string;
  status: BuildStatus;
  image: string | null;
  context_digest: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  log_ref: string | null;
  reason: string | null;
  delivery_id: string;
  reused_build_id: string | null;
  superseded_by: string | null;
  builder: string | null;
  image_digest: string | null;
  /** Comma-separated, as BUILD_PLATFORMS; null: the builder's own (and builds recorded before platforms were). */
  platforms: string | null;
  seq: number;
}>;

type BuildEvent = Extract<FaaslineEvent, { data: BuildStarted['data'] }>;
const buildEvents = new Set<FaaslineEvent['type']>(['BuildStarted', 'BuildSucceeded', 'BuildReused', 'BuildFailed', 'BuildSuperseded']);

/** A rejection's builds entry: its id is the FunctionRejected event's, so replay finds the same one. */
export const REJECTED_AT_SOURCE = 'rejected at source: ';

export const buildsProjection: RowProjection<BuildRow> = {
  table: 'builds',
  key: 'id',
  keyOf: (event) =>
    event.type === 'FunctionRejected' ? event.metadata.eventId : buildEvents.has(event.type) ? (event as BuildEvent).data.buildId : null,
  evolve: (stored, event) => {
    if (event.type === 'FunctionRejected') return rejectedBuild(event);
    const { data, metadata } = event as RecordedEvent<BuildEvent>;
    const row: BuildRow = stored ?? {
      id: data.buildId,
      function_name: data.name,
      owner: data.owner,
      repo: data.repo,
      sha: data.sha,
      status: 'queued',
      image: null,
      context_digest: data.contextDigest,
      started_at: null,
      finished_at: null,
      duration_ms: null,
      log_ref: null,
      reason: null,
      delivery_id: metadata.correlationId,
      reused_build_id: null,
      superseded_by: null,
      builder: null,
      image_digest: null,
      platforms: data.platforms?.length ? data.platforms.join(',') : null,
      seq: metadata.globalPosition,
    };
    switch (event.type) {
      case 'BuildStarted':
        return { ...row, status: 'running', started_at: metadata.occurredAt };
      case 'BuildSucceeded':
        return {
          ...row,
          status: 'succeeded',
          image: event.data.image,
          finished_at: metadata.occurredAt,
          duration_ms: event.data.durationMs,
          log_ref: event.data.logRef,
          builder: event.data.builder,
          image_digest: event.data.imageDigest,
        };
      case 'BuildFailed':
        return {
          ...row,
          status: 'failed',
          finished_at: metadata.occurredAt,
          duration_ms: event.data.durationMs,
          log_ref: event.data.logRef,
          // Events recorded before reasons were scrubbed may still name server paths.
          reason: withoutServerPaths(event.data.reason),
        };
      case 'BuildReused':
        return {
          ...row,
          status: 'reused',
          image: event.data.image,
          started_at: row.started_at ?? metadata.occurredAt,
          finished_at: metadata.occurredAt,
          duration_ms: 0,
          reused_build_id: event.data.reusedBuildId,
        };
      case 'BuildSuperseded':
        return { ...row, status: 'superseded', image: row.image ?? event.data.image, superseded_by: event.data.supersededBy };
      default:
        return row;
    }
  },
};

/**
 * A function refused at source has no build, but its builds list says so: one failed entry that never started
 * (no image, no context digest, no log), its reason `rejected at source: <why>`.
 */
function rejectedBuild(event: RecordedEvent<FunctionRejected>): BuildRow {
  const { data, metadata } = event;
  return {
    id: metadata.eventId,
    function_name: data.name,
    owner: data.owner,
    repo: data.repo,
    sha: data.sha,
    status: 'failed',
    image: null,
    context_digest: '',
    started_at: null,
    finished_at: metadata.occurredAt,
    duration_ms: 0,
    log_ref: null,
    reason: `${REJECTED_AT_SOURCE}${withoutServerPaths(data.reason)}`,
    delivery_id: metadata.correlationId,
    reused_build_id: null,
    superseded_by: null,
    builder: null,
    image_digest: null,
    platforms: null,
    seq: metadata.globalPosition,
  };
}
