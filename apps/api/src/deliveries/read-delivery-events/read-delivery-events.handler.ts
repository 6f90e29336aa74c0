import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Event, RecordedEvent } from '#domain';
import { readEventsByCorrelation, type Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { ReadDeliveryEventsQuery } from './read-delivery-events.query.js';

@QueryHandler(ReadDeliveryEventsQuery)
export class ReadDeliveryEventsHandler implements IQueryHandler<ReadDeliveryEventsQuery, RecordedEvent<Event>[]> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ deliveryId, afterPosition }: ReadDeliveryEventsQuery): Promise<RecordedEvent<Event>[]> {
    const events = await readEventsByCorrelation(this.backbone.db, deliveryId, Number.MAX_SAFE_INTEGER);
    return events.filter((event) => event.metadata.globalPosition > afterPosition);
  }
}
