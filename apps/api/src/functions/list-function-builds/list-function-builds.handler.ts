import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { BUILDS_READ_MODEL, type BuildsReadModel } from '#infra';
import type { BuildDto } from '../../builds/build.dto.js';
import { pageOf, type Page } from '../../queries/page.js';
import { ListFunctionBuildsQuery } from './list-function-builds.query.js';

/** A function's builds, newest first; builds of private repositories' pushes only for an admin. */
@QueryHandler(ListFunctionBuildsQuery)
export class ListFunctionBuildsHandler implements IQueryHandler<ListFunctionBuildsQuery, Page<BuildDto>> {
  constructor(@Inject(BUILDS_READ_MODEL) private readonly builds: BuildsReadModel) {}

  async execute({ name, limit, before, audience }: ListFunctionBuildsQuery): Promise<Page<BuildDto>> {
    const builds = await this.builds.ofFunction(name, { limit, before, audience });
    return pageOf(
      builds,
      ({ seq: _seq, ...build }) => build,
      (build) => [build.seq, build.id],
    );
  }
}
