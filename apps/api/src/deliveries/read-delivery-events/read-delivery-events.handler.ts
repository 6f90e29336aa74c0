import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Event, RecordedEvent } from '#domain';
import { readEventsByCorrelation, type Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { ReadDeliveryEventsQuery } from './read-delivery-events.query.js';

@QueryHandler(ReadDeliveryEventsQuery)
export class ReadDeliveryEventsHandler implements IQueryHandler<ReadDeliveryEventsQuery, RecordedEvent<Event>[]> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  execute({ deliveryId, afterPosition }: ReadDeliveryEventsQuery): Promise<RecordedEvent<Event>[]> {
    return readEventsByCorrelation(this.backbone.db, deliveryId, Number.MAX_SAFE_INTEGER, afterPosition);
  }
}
