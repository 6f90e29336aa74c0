import { Module } from '@nestjs/common';
import { BuildLogStore, PostgresContextStore, type Backbone, type Config } from '#infra';
import { BACKBONE, CONFIG } from '#projector';
import { Links } from '../pipeline/pipeline-parts.js';
import { BUILD_LOGS, CONTEXT_STORE, LINKS, LINKS_SECRET } from '../tokens.js';
import { ReadBuildLogController } from './read-build-log/read-build-log.controller.js';
import { ReadBuildLogHandler } from './read-build-log/read-build-log.handler.js';
import { ServeBuildContextController } from './serve-build-context/serve-build-context.controller.js';
import { ReadDeliveryEventsController } from '../deliveries/read-delivery-events/read-delivery-events.controller.js';
import { ReadDeliveryEventsHandler } from '../deliveries/read-delivery-events/read-delivery-events.handler.js';

/**
 * What every api instance serves about builds, pipeline or not: build logs behind their signed links, and build
 * contexts for BuildKit (PUBLIC_URL may route a daemon's fetch to any instance).
 */
@Module({
  controllers: [ReadBuildLogController, ServeBuildContextController, ReadDeliveryEventsController],
  providers: [
    ReadBuildLogHandler,
    ReadDeliveryEventsHandler,
    {
      provide: LINKS,
      inject: [CONFIG, LINKS_SECRET],
      useFactory: (config: Config, secret: string) => Links.fromSecret(secret, config.publicUrl, config.gatewayPublicUrl, config.links.buildLogTtlMs),
    },
    { provide: CONTEXT_STORE, inject: [BACKBONE], useFactory: (backbone: Backbone) => new PostgresContextStore(backbone.db) },
    { provide: BUILD_LOGS, inject: [BACKBONE], useFactory: (backbone: Backbone) => new BuildLogStore(backbone.db) },
  ],
  exports: [LINKS, CONTEXT_STORE, BUILD_LOGS],
})
export class BuildsModule {}
