import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { BUILDS_READ_MODEL, type BuildsReadModel } from '#infra';
import type { BuildDto } from '../build.dto.js';
import { ReadBuildQuery } from './read-build.query.js';

@QueryHandler(ReadBuildQuery)
export class ReadBuildHandler implements IQueryHandler<ReadBuildQuery, BuildDto | null> {
  constructor(@Inject(BUILDS_READ_MODEL) private readonly builds: BuildsReadModel) {}

  execute({ id, audience }: ReadBuildQuery): Promise<BuildDto | null> {
    return this.builds.byId(id, audience);
  }
}
