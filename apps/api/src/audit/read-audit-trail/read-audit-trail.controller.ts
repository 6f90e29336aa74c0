import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { eventTypes } from '#domain';
import { AdminGuard } from '../../auth/admin.guard.js';
import { ApiAdmin } from '../../auth/api-admin.js';
import { ApiPage, decodeCursor, positionKey, type Page } from '../../queries/page.js';
import { badRequest, eventTypeParam, instantParam, limitParam, ownerParam, repoParam, textParam, type RawParam } from '../../queries/query-params.js';
import type { EventDto } from '../event.dto.js';
import { EventPage } from './read-audit-trail.dto.js';
import { ReadAuditTrailQuery } from './read-audit-trail.query.js';

/** `GET /api/v1/audit` (admin): every event, oldest first, filtered by owner, repo, type, time, actor, correlation. */
@ApiTags('audit')
@Controller('api/v1/audit')
@UseGuards(AdminGuard)
@ApiAdmin()
export class ReadAuditTrailController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'The audit trail: every event, oldest first' })
  @ApiQuery({ name: 'owner', required: false, type: String, description: 'GitHub owner (case-insensitive)' })
  @ApiQuery({ name: 'repo', required: false, type: String, description: 'GitHub repository (case-insensitive)' })
  @ApiQuery({ name: 'type', required: false, enum: eventTypes, enumName: 'EventType' })
  @ApiQuery({ name: 'since', required: false, type: String, description: 'Events that occurred at or after this ISO 8601 instant', schema: { type: 'string', format: 'date-time' } })
  @ApiQuery({ name: 'until', required: false, type: String, description: 'Events that occurred before this ISO 8601 instant', schema: { type: 'string', format: 'date-time' } })
  @ApiQuery({ name: 'actor', required: false, type: String, description: 'e.g. github:alexellis or system:pipeline' })
  @ApiQuery({ name: 'correlationId', required: false, type: String, description: 'A webhook delivery id: everything one push caused' })
  @ApiPage(EventPage)
  read(@Query() query: Record<string, RawParam>): Promise<Page<EventDto>> {
    const since = instantParam('since', query.since);
    const until = instantParam('until', query.until);
    if (since && until && since >= until) throw badRequest('since must be before until');
    const filter = {
      owner: ownerParam('owner', query.owner),
      repo: repoParam('repo', query.repo),
      type: eventTypeParam(query.type),
      since,
      until,
      actor: textParam('actor', query.actor),
      correlationId: textParam('correlationId', query.correlationId),
    };
    return this.queries.execute(new ReadAuditTrailQuery(filter, limitParam(query.limit), decodeCursor(query.cursor, positionKey())?.[0]));
  }
}
