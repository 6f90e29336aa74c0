import { Module } from '@nestjs/common';
import { PostgresBacklog, type Backbone } from '#infra';
import { BACKBONE, ProbesController } from '#kernel';
import { BACKLOG } from '../tokens.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { HealthController } from './health.controller.js';

/** Liveness, readiness and metrics (the webhook counters among them). */
@Module({
  imports: [WebhooksModule],
  controllers: [ProbesController, HealthController],
  providers: [{ provide: BACKLOG, inject: [BACKBONE], useFactory: (backbone: Backbone) => new PostgresBacklog(backbone.db) }],
})
export class HealthModule {}
