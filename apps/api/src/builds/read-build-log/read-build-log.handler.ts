import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { BuildLogStore } from '#infra';
import { BUILD_LOGS } from '../../tokens.js';
import { ReadBuildLogQuery } from './read-build-log.query.js';

@QueryHandler(ReadBuildLogQuery)
export class ReadBuildLogHandler implements IQueryHandler<ReadBuildLogQuery, string | null> {
  constructor(@Inject(BUILD_LOGS) private readonly logs: BuildLogStore) {}

  execute({ buildId }: ReadBuildLogQuery): Promise<string | null> {
    return this.logs.read(buildId);
  }
}
