import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Event, RecordedEvent } from '#domain';
import { AUDIT_READ_MODEL, type AuditReadModel } from '#infra';
import { ReadDeliveryEventsQuery } from './read-delivery-events.query.js';

@QueryHandler(ReadDeliveryEventsQuery)
export class ReadDeliveryEventsHandler implements IQueryHandler<ReadDeliveryEventsQuery, RecordedEvent<Event>[]> {
  constructor(@Inject(AUDIT_READ_MODEL) private readonly audit: AuditReadModel) {}

  execute({ deliveryId, afterPosition }: ReadDeliveryEventsQuery): Promise<RecordedEvent<Event>[]> {
    return this.audit.ofDelivery(deliveryId, afterPosition);
  }
}
