import { Module } from '@nestjs/common';
import { PROJECTIONS, type Projection } from './projection.js';
import { ProjectorService } from './projector.service.js';
import { readModelsProjection } from './read-models.projection.js';

/** Read models register here; each runs as its own checkpointed subscriber. */
const projections: readonly Projection[] = [readModelsProjection];

@Module({
  providers: [{ provide: PROJECTIONS, useValue: projections }, ProjectorService],
  exports: [ProjectorService],
})
export class ProjectorModule {}
