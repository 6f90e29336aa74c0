import { ApiProperty } from '@nestjs/swagger';
import { eventTypes, type Event, type RecordedEvent } from '#domain';

/** One event of the audit trail, its data upcast to the current schema version. */
export class EventDto {
  @ApiProperty({ type: 'integer', description: 'Global position: commit order across all streams' }) position!: number;
  @ApiProperty({ format: 'uuid' }) eventId!: string;
  @ApiProperty({ enum: eventTypes, enumName: 'EventType' }) type!: string;
  @ApiProperty({ example: 'function-alexellis-fn1' }) stream!: string;
  @ApiProperty({ type: String, format: 'date-time' }) occurredAt!: string;
  @ApiProperty({ description: '`github:<login>`, `admin:<name>` or `system:<component>`', example: 'system:pipeline' }) actor!: string;
  @ApiProperty({ description: 'The webhook delivery (or admin request) that started the chain' }) correlationId!: string;
  @ApiProperty({ description: 'The event id (or delivery id) that directly caused this event' }) causationId!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "The event's data, as in the event catalogue" }) data!: Record<
    string,
    unknown
  >;
}

export const toEventDto = (event: RecordedEvent<Event>): EventDto => ({
  position: event.metadata.globalPosition,
  eventId: event.metadata.eventId,
  type: event.type,
  stream: event.metadata.streamId,
  occurredAt: event.metadata.occurredAt,
  actor: event.metadata.actor,
  correlationId: event.metadata.correlationId,
  causationId: event.metadata.causationId,
  data: event.data as Record<string, unknown>,
});
