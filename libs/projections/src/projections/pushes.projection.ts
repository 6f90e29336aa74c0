import { STACK_CONTEXT, withoutServerPaths, type FaaslineEvent, type RecordedEvent } from '#domain';
import type { RowProjection } from './row-projection.js';

export type PushOutcome = 'pending' | 'deployed' | 'failed' | 'ignored';

/** `GET /api/v1/repos/{owner}/{repo}/pushes`: one delivery and how its pipeline ended. */
export type PushRow = Readonly<{
  delivery_id: string;
  owner: string;
  repo: string;
  sha: string;
  ref: string | null;
  branch: string | null;
  received_at: string | null;
  outcome: PushOutcome;
  reason: string | null;
  seq: number | null;
  /** The repository was private at this push (anonymous readers do not see it); null until known (ignored pushes). */
  private: boolean | null;
}>;

/**
 * The push's own events (repository stream) write what was pushed; the `stack-deploy` commit status (commit
 * stream) writes the outcome. Disjoint columns: the two streams may be projected in either order.
 */
export const pushesProjection: RowProjection<PushRow> = {
  table: 'pushes',
  key: 'delivery_id',
  keyOf: (event) => {
    switch (event.type) {
      case 'PushReceived':
      case 'PushIgnored':
        return event.data.deliveryId;
      case 'CommitStatusReported':
        return event.data.context === STACK_CONTEXT ? event.metadata.correlationId : null;
      default:
        return null;
    }
  },
  evolve: (stored, event) => {
    const { metadata } = event as RecordedEvent<FaaslineEvent>;
    const data = event.data as { owner: string; repo: string; sha: string };
    const row: PushRow = stored ?? {
      delivery_id: metadata.correlationId,
      owner: data.owner,
      repo: data.repo,
      sha: data.sha,
      ref: null,
      branch: null,
      received_at: null,
      outcome: 'pending',
      reason: null,
      seq: null,
      private: null,
    };
    // The push's own event, received or ignored, says what was pushed and where it sorts.
    const pushed = (data: { deliveryId: string; owner: string; repo: string; sha: string; ref: string }) => ({
      ...row,
      delivery_id: data.deliveryId,
      owner: data.owner,
      repo: data.repo,
      sha: data.sha,
      ref: data.ref,
      seq: metadata.globalPosition,
    });
    switch (event.type) {
      case 'PushReceived':
        return { ...pushed(event.data), branch: event.data.branch, received_at: event.data.receivedAt, private: event.data.private };
      case 'PushIgnored':
        return {
          ...pushed(event.data),
          branch: event.data.ref.startsWith('refs/heads/') ? event.data.ref.slice('refs/heads/'.length) : null,
          received_at: metadata.occurredAt,
          outcome: 'ignored',
          reason: withoutServerPaths(event.data.reason),
        };
      case 'CommitStatusReported':
        if (event.data.state === 'pending') return { ...row, outcome: 'pending', reason: null };
        return event.data.state === 'success'
          ? { ...row, outcome: 'deployed', reason: null }
          : { ...row, outcome: 'failed', reason: withoutServerPaths(event.data.detail ?? event.data.description) };
      default:
        return row;
    }
  },
};
