import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { Event, RecordedEvent } from '#domain';
import { EventDto, toEventDto } from '../../audit/event.dto.js';
import { ApiAdmin } from '../../auth/api-admin.js';
import { ValidQuery } from '../../queries/api-params.decorator.js';
import { apiSchema } from '../../queries/openapi-schema.js';
import { errorAnswer } from '../../queries/page.js';
import { position } from '../../queries/query-params.schema.js';
import { AdminGuard } from '../../auth/admin.guard.js';
import { ReadDeliveryEventsQuery } from './read-delivery-events.query.js';

/**
 * `GET /api/v1/deliveries/{deliveryId}/events?after=<position>` (admin): everything one webhook delivery caused,
 * in commit order, in the audit trail's shape — what `faasline push` follows to show a push going live.
 */
const deliveryEventsQuery = z.object({ after: position.default(0).describe('Only events after this position') });

const DeliveryEventsDto = z.object({ items: z.array(EventDto) }).meta({ id: 'DeliveryEventsDto' });
type DeliveryEventsDto = z.output<typeof DeliveryEventsDto>;

@ApiTags('audit')
@ApiAdmin()
@Controller('api/v1/deliveries')
@UseGuards(AdminGuard)
export class ReadDeliveryEventsController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get(':deliveryId/events')
  @ApiOkResponse({ schema: apiSchema(DeliveryEventsDto) })
  @ApiBadRequestResponse(errorAnswer())
  async read(
    @Param('deliveryId') deliveryId: string,
    @ValidQuery(deliveryEventsQuery) { after }: z.output<typeof deliveryEventsQuery>,
  ): Promise<DeliveryEventsDto> {
    const events = await this.queries.execute<ReadDeliveryEventsQuery, RecordedEvent<Event>[]>(
      new ReadDeliveryEventsQuery(deliveryId, after),
    );
    return { items: events.map(toEventDto) };
  }
}
