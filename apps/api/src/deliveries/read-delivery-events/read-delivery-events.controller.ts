import { Controller, Get, HttpException, HttpStatus, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Event, RecordedEvent } from '#domain';
import { EventDto, toEventDto } from '../../audit/event.dto.js';
import { ApiAdmin } from '../../auth/api-admin.js';
import { ErrorDto } from '../../queries/page.js';
import { AdminGuard } from '../../auth/admin.guard.js';
import { ReadDeliveryEventsQuery } from './read-delivery-events.query.js';

/**
 * `GET /api/v1/deliveries/{deliveryId}/events?after=<position>` (admin): everything one webhook delivery caused,
 * in commit order, in the audit trail's shape — what `faasline push` follows to show a push going live.
 */
class DeliveryEventsDto {
  @ApiProperty({ type: [EventDto] }) items!: EventDto[];
}

@ApiTags('audit')
@ApiAdmin()
@Controller('api/v1/deliveries')
@UseGuards(AdminGuard)
export class ReadDeliveryEventsController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get(':deliveryId/events')
  @ApiQuery({ name: 'after', required: false, type: 'integer', description: 'Only events after this position' })
  @ApiOkResponse({ type: DeliveryEventsDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  async read(@Param('deliveryId') deliveryId: string, @Query('after') after: string | undefined): Promise<DeliveryEventsDto> {
    if (after !== undefined && !/^\d+$/.test(after)) throw new HttpException({ message: 'after must be a position (a whole number)' }, HttpStatus.BAD_REQUEST);
    const events = await this.queries.execute<ReadDeliveryEventsQuery, RecordedEvent<Event>[]>(new ReadDeliveryEventsQuery(deliveryId, Number(after ?? 0)));
    return { items: events.map(toEventDto) };
  }
}
