import { Module } from '@nestjs/common';
import { ReadModelsModule } from '../queries/read-models.module.js';
import { ListPushesController } from './list-pushes/list-pushes.controller.js';
import { ListPushesHandler } from './list-pushes/list-pushes.handler.js';

/** `/api/v1/repos/{owner}/{repo}/pushes`: a repository's pushes and how each ended. */
@Module({
  imports: [ReadModelsModule],
  controllers: [ListPushesController],
  providers: [ListPushesHandler],
})
export class PushesModule {}
