import { Controller, Get, Headers, HttpException, HttpStatus, Inject, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { Event, RecordedEvent } from '#domain';
import { constantTimeEqual } from '#infra';
import { ADMIN_TOKEN } from '../../tokens.js';
import { ReadDeliveryEventsQuery } from './read-delivery-events.query.js';

/**
 * `GET /api/v1/deliveries/{deliveryId}/events?after=<position>` (admin): everything one webhook delivery caused,
 * in commit order — what `faasline push` follows to show a push going live.
 */
@Controller('api/v1/deliveries')
export class ReadDeliveryEventsController {
  constructor(
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(ADMIN_TOKEN) private readonly adminToken: string,
  ) {}

  @Get(':deliveryId/events')
  async read(@Param('deliveryId') deliveryId: string, @Query('after') after: string | undefined, @Headers('authorization') authorization: string | undefined) {
    const bearer = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
    if (bearer === undefined) throw new HttpException({ message: 'Authorization: Bearer <ADMIN_TOKEN> is required' }, HttpStatus.UNAUTHORIZED);
    if (!constantTimeEqual(bearer, this.adminToken)) throw new HttpException({ message: 'wrong admin token' }, HttpStatus.FORBIDDEN);
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
