import type { Event, EventType, RecordedEvent } from '#domain';
import type { Slice } from '../visibility.js';

export const AUDIT_READ_MODEL = Symbol('AUDIT_READ_MODEL');

export type AuditFilter = Readonly<{
  owner?: string;
  repo?: string;
  type?: EventType;
  /** Inclusive. */
  since?: Date;
  /** Exclusive. */
  until?: Date;
  actor?: string;
  correlationId?: string;
}>;

/** What the API asks of the audit trail; every event comes with its data upcast to today's shape. */
export interface AuditReadModel {
  /** Oldest first; owner and repo match case-insensitively. `after`: the position of the last event of the previous page. */
  trail(filter: AuditFilter, page: Readonly<{ limit: number; after?: number }>): Promise<Slice<RecordedEvent<Event>>>;
  /** Everything one webhook delivery caused after `afterPosition`, in commit order. */
  ofDelivery(deliveryId: string, afterPosition: number): Promise<RecordedEvent<Event>[]>;
  /**
   * `eventId` and its causes, nearest first: every event's causationId is the id of the event that caused it, until
   * one names something that is not an event (the webhook delivery of the push).
   */
  causationChain(eventId: string): Promise<RecordedEvent<Event>[]>;
}
