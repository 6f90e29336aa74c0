import { Module } from '@nestjs/common';
import { customerList, webhookMetrics, type Config } from '#infra';
import { CONFIG } from '#kernel';
import { CUSTOMERS, INGRESS_COUNTERS } from '../tokens.js';
import { GithubWebhookController } from './github-webhook.controller.js';
import { RecordInstallationChangeHandler } from './record-installation-change.handler.js';
import { RecordPushHandler } from './record-push.handler.js';
import { RecordRerunHandler } from './record-rerun.handler.js';

@Module({
  controllers: [GithubWebhookController],
  providers: [
    RecordPushHandler,
    RecordRerunHandler,
    RecordInstallationChangeHandler,
    { provide: CUSTOMERS, inject: [CONFIG], useFactory: (config: Config) => customerList(config) },
    { provide: INGRESS_COUNTERS, useValue: webhookMetrics },
  ],
  exports: [INGRESS_COUNTERS],
})
export class WebhooksModule {}
