import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AUDIT_READ_MODEL, type AuditReadModel } from '#infra';
import { pageOf, type Page } from '../../queries/page.js';
import { toEventDto, type EventDto } from '../event.dto.js';
import { ReadAuditTrailQuery } from './read-audit-trail.query.js';

/** The audit trail, oldest first, each event's data upcast to today's shape. */
@QueryHandler(ReadAuditTrailQuery)
export class ReadAuditTrailHandler implements IQueryHandler<ReadAuditTrailQuery, Page<EventDto>> {
  constructor(@Inject(AUDIT_READ_MODEL) private readonly audit: AuditReadModel) {}

  async execute({ filter, limit, after }: ReadAuditTrailQuery): Promise<Page<EventDto>> {
    return pageOf(await this.audit.trail(filter, { limit, after }), toEventDto, (event) => [event.metadata.globalPosition]);
  }
}
