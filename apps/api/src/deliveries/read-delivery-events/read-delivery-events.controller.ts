import { Controller, Get, HttpException, HttpStatus, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { Event, RecordedEvent } from '#domain';
import { AdminGuard } from '../../auth/admin.guard.js';
import { ReadDeliveryEventsQuery } from './read-delivery-events.query.js';

/**
 * `GET /api/v1/deliveries/{deliveryId}/events?after=<position>` (admin): everything one webhook delivery caused,
 * in commit order — what `faasline push` follows to show a push going live.
 */
@Controller('api/v1/deliveries')
@UseGuards(AdminGuard)
export class ReadDeliveryEventsController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get(':deliveryId/events')
  async read(@Param('deliveryId') deliveryId: string, @Query('after') after: string | undefined) {
    if (after !== undefined && !/^\d+$/.test(after)) throw new HttpException({ message: 'after must be a position (a whole number)' }, HttpStatus.BAD_REQUEST);
    const events = await this.queries.execute<ReadDeliveryEventsQuery, RecordedEvent<Event>[]>(new ReadDeliveryEventsQuery(deliveryId, Number(after ?? 0)));
    return {
      items: events.map((event) => ({
        position: event.metadata.globalPosition,
        type: event.type,
        stream: event.metadata.streamId,
        occurredAt: event.metadata.occurredAt,
        actor: event.metadata.actor,
        data: event.data,
      })),
    };
  }
}
