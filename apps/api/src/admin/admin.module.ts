import { Module } from '@nestjs/common';
import type { Backbone, Logger } from '#infra';
import { BACKBONE, LOGGER } from '#kernel';
import { ReadModelReplayer } from '#projections';
import { REPLAYER } from './admin.tokens.js';
import { ReadReplayHandler } from './replay-read-models/read-replay.handler.js';
import { ReplayController } from './replay-read-models/replay.controller.js';
import { StartReplayHandler } from './replay-read-models/start-replay.handler.js';

/** Admin operations every api instance serves, whether or not it runs the projector. */
@Module({
  controllers: [ReplayController],
  providers: [
    StartReplayHandler,
    ReadReplayHandler,
    {
      provide: REPLAYER,
      inject: [BACKBONE, LOGGER],
      useFactory: (backbone: Backbone, logger: Logger) => new ReadModelReplayer(backbone.db, backbone.log.mode, logger),
    },
  ],
})
export class AdminModule {}
