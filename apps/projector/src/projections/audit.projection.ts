import type { RowProjection } from './row-projection.js';
import { ownerAndRepo } from './row-projection.js';

/** `GET /api/v1/audit`: one line per event; its data is read from the event store, through the upcasters. */
export type AuditRow = Readonly<{
  position: number;
  event_id: string;
  type: string;
  stream: string;
  owner: string | null;
  repo: string | null;
  occurred_at: string;
  actor: string;
  correlation_id: string;
  causation_id: string;
}>;

export const auditProjection: RowProjection<AuditRow> = {
  table: 'audit',
  key: 'position',
  appendOnly: true,
  keyOf: (event) => String(event.metadata.globalPosition),
  evolve: (_row, event) => ({
    position: event.metadata.globalPosition,
    event_id: event.metadata.eventId,
    type: event.type,
    stream: event.metadata.streamId,
    ...ownerAndRepo(event),
    occurred_at: event.metadata.occurredAt,
    actor: event.metadata.actor,
    correlation_id: event.metadata.correlationId,
    causation_id: event.metadata.causationId,
  }),
};
