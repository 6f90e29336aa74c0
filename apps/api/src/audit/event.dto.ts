import { z } from 'zod';
import type { Event, EventType, RecordedEvent } from '#domain';
import { dateTime } from '../queries/openapi-schema.js';
import { eventType } from '../queries/query-params.schema.js';

/** One event of the audit trail, its data upcast to the current schema version. */
export const EventDto = z
  .object({
    position: z.int().describe('Global position: commit order across all streams'),
    eventId: z.string().meta({ format: 'uuid' }),
    type: eventType,
    stream: z.string().meta({ example: 'function-alexellis-fn1' }),
    occurredAt: dateTime,
    actor: z.string().meta({ description: '`github:<login>`, `admin:<name>` or `system:<component>`', example: 'system:pipeline' }),
    correlationId: z.string().describe('The webhook delivery (or admin request) that started the chain'),
    causationId: z.string().describe('The event id (or delivery id) that directly caused this event'),
    data: z.record(z.string(), z.unknown()).describe("The event's data, as in the event catalogue"),
  })
  .meta({ id: 'EventDto' });
export type EventDto = z.output<typeof EventDto>;

export const toEventDto = (event: RecordedEvent<Event>): EventDto => ({
  position: event.metadata.globalPosition,
  eventId: event.metadata.eventId,
  // Read back upcast, every event is one of the catalogue's.
  type: event.type as EventType,
  stream: event.metadata.streamId,
  occurredAt: event.metadata.occurredAt,
  actor: event.metadata.actor,
  correlationId: event.metadata.correlationId,
  causationId: event.metadata.causationId,
  data: event.data as Record<string, unknown>,
});
