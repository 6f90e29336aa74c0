import { Module } from '@nestjs/common';
import { customerList, type Config } from '#infra';
import { CONFIG } from '#projector';
import { CUSTOMERS, INGRESS_COUNTERS } from '../tokens.js';
import { GithubWebhookController } from './github-webhook.controller.js';
import { RecordInstallationChangeHandler } from './record-installation-change.handler.js';
import { RecordPushHandler } from './record-push.handler.js';
import { WebhookCounters } from './webhook-counters.js';

@Module({
  controllers: [GithubWebhookController],
  providers: [
    RecordPushHandler,
    RecordInstallationChangeHandler,
    { provide: CUSTOMERS, inject: [CONFIG], useFactory: (config: Config) => customerList(config) },
    { provide: INGRESS_COUNTERS, useValue: new WebhookCounters() },
  ],
  exports: [INGRESS_COUNTERS],
})
export class WebhooksModule {}
