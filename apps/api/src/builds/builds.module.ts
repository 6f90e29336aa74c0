import { Module } from '@nestjs/common';
import { BuildLogStore, PostgresContextStore, type Backbone } from '#infra';
import { BACKBONE } from '#kernel';
import { LinksModule } from '../links/links.module.js';
import { ReadModelsModule } from '../queries/read-models.module.js';
import { BUILD_LOGS, CONTEXT_STORE } from '../tokens.js';
import { ReadBuildLogController } from './read-build-log/read-build-log.controller.js';
import { ReadBuildLogHandler } from './read-build-log/read-build-log.handler.js';
import { ReadBuildController } from './read-build/read-build.controller.js';
import { ReadBuildHandler } from './read-build/read-build.handler.js';
import { ServeBuildContextController } from './serve-build-context/serve-build-context.controller.js';

/**
 * What every api instance serves about builds, pipeline or not: builds, their logs behind signed links, and build
 * contexts for BuildKit (PUBLIC_URL may route a daemon's fetch to any instance).
 */
@Module({
  imports: [LinksModule, ReadModelsModule],
  controllers: [ReadBuildLogController, ServeBuildContextController, ReadBuildController],
  providers: [
    ReadBuildLogHandler,
    ReadBuildHandler,
    { provide: CONTEXT_STORE, inject: [BACKBONE], useFactory: (backbone: Backbone) => new PostgresContextStore(backbone.db) },
    { provide: BUILD_LOGS, inject: [BACKBONE], useFactory: (backbone: Backbone) => new BuildLogStore(backbone.db) },
  ],
  exports: [LinksModule, CONTEXT_STORE, BUILD_LOGS],
})
export class BuildsModule {}
