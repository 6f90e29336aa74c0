import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { eventColumns, type Backbone, type EventRow } from '#infra';
import { BACKBONE } from '#projector';
import { pageOf, type Page } from '../../queries/page.js';
import { eventDtoOf, type EventDto } from '../event.dto.js';
import { ReadAuditTrailQuery } from './read-audit-trail.query.js';

/**
 * The audit trail, oldest first: read_audit carries what it is filtered by (owner and repo lower-cased), the
 * event store the data, upcast to today's shape.
 */
@QueryHandler(ReadAuditTrailQuery)
export class ReadAuditTrailHandler implements IQueryHandler<ReadAuditTrailQuery, Page<EventDto>> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ filter, limit, after }: ReadAuditTrailQuery): Promise<Page<EventDto>> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (condition: (parameter: string) => string, value: unknown) => {
      if (value === undefined) return;
      values.push(value);
      where.push(condition(`$${values.length}`));
    };
    add((p) => `a.owner = lower(${p})`, filter.owner);
    add((p) => `a.repo = lower(${p})`, filter.repo);
    add((p) => `a.type = ${p}`, filter.type);
    add((p) => `a.occurred_at >= ${p}`, filter.since);
    add((p) => `a.occurred_at < ${p}`, filter.until);
    add((p) => `a.actor = ${p}`, filter.actor);
    // One delivery's events come straight from the events_correlation index.
    add((p) => `a.position IN (SELECT global_position FROM events WHERE correlation_id = ${p})`, filter.correlationId);
    add((p) => `a.position > ${p}`, after);
    values.push(limit + 1);
    // The page is chosen in read_audit first, then joined: the events are read by position, a page's worth.
    const rows: EventRow[] = await this.backbone.db.query(
      `SELECT ${eventColumns('e')}
         FROM (SELECT a.position FROM read_audit a ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.position LIMIT $${values.length}) page
         JOIN events e ON e.global_position = page.position
        ORDER BY e.global_position`,
      values,
    );
    return pageOf(rows, limit, eventDtoOf, (row) => [Number(row.global_position)]);
  }
}
