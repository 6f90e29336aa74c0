import { Module } from '@nestjs/common';
import { AdminGuard } from '../auth/admin.guard.js';
import { ReadModelsModule } from '../queries/read-models.module.js';
import { ReadDeliveryEventsController } from './read-delivery-events/read-delivery-events.controller.js';
import { ReadDeliveryEventsHandler } from './read-delivery-events/read-delivery-events.handler.js';

/** `/api/v1/deliveries/{id}/events` (admin): what one webhook delivery caused, as `faasline push` follows it. */
@Module({
  imports: [ReadModelsModule],
  controllers: [ReadDeliveryEventsController],
  providers: [AdminGuard, ReadDeliveryEventsHandler],
})
export class DeliveriesModule {}
