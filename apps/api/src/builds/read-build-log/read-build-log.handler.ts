import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { BuildLogStore, type Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { ReadBuildLogQuery } from './read-build-log.query.js';

@QueryHandler(ReadBuildLogQuery)
export class ReadBuildLogHandler implements IQueryHandler<ReadBuildLogQuery, string | null> {
  private readonly logs: BuildLogStore;

  constructor(@Inject(BACKBONE) backbone: Backbone) {
    this.logs = new BuildLogStore(backbone.db);
  }

  execute({ buildId }: ReadBuildLogQuery): Promise<string | null> {
    return this.logs.read(buildId);
  }
}
