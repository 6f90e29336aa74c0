import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AdminGuard } from '../../auth/admin.guard.js';
import { ApiAdmin } from '../../auth/api-admin.js';
import { ValidQuery } from '../../queries/api-params.decorator.js';
import { ApiPage, pageParams, type Page } from '../../queries/page.js';
import { eventType, instant, owner, positionKey, repo, text } from '../../queries/query-params.schema.js';
import type { EventDto } from '../event.dto.js';
import { EventPage } from './read-audit-trail.dto.js';
import { ReadAuditTrailQuery } from './read-audit-trail.query.js';

const auditTrailQuery = z
  .object({
    since: instant.optional().describe('Events that occurred at or after this ISO 8601 instant'),
    until: instant.optional().describe('Events that occurred before this ISO 8601 instant'),
    owner: owner.optional(),
    repo: repo.optional(),
    type: eventType.optional(),
    actor: text.optional().describe('e.g. github:alexellis or system:pipeline'),
    correlationId: text.optional().describe('A webhook delivery id: everything one push caused'),
    ...pageParams(positionKey()),
  })
  .refine(({ since, until }) => !since || !until || since < until, { path: ['since'], error: 'must be before until' });

/** `GET /api/v1/audit` (admin): every event, oldest first, filtered by owner, repo, type, time, actor, correlation. */
@ApiTags('audit')
@Controller('api/v1/audit')
@UseGuards(AdminGuard)
@ApiAdmin()
export class ReadAuditTrailController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'The audit trail: every event, oldest first' })
  @ApiPage(EventPage)
  read(@ValidQuery(auditTrailQuery) { limit, cursor, ...filter }: z.output<typeof auditTrailQuery>): Promise<Page<EventDto>> {
    return this.queries.execute(new ReadAuditTrailQuery(filter, limit, cursor?.[0]));
  }
}
