import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadBuild, type Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { toBuildDto, type BuildDto } from '../../builds/build.dto.js';
import { pageOf, type Page } from '../../queries/page.js';
import { ListFunctionBuildsQuery } from './list-function-builds.query.js';

/** A function's builds, newest first: by the position of each build's first event (index read_builds_function). */
@QueryHandler(ListFunctionBuildsQuery)
export class ListFunctionBuildsHandler implements IQueryHandler<ListFunctionBuildsQuery, Page<BuildDto>> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ name, limit, before }: ListFunctionBuildsQuery): Promise<Page<BuildDto>> {
    const query = this.backbone.db
      .getRepository(ReadBuild)
      .createQueryBuilder('b')
      .where('b.function_name = :name', { name })
      .orderBy('b.seq', 'DESC')
      .addOrderBy('b.id', 'DESC')
      .limit(limit + 1);
    // `seq <=` lets the index start at the cursor; the row comparison then breaks a tie on seq by id.
    if (before !== undefined) query.andWhere('b.seq <= :seq AND (b.seq, b.id) < (:seq, :id)', { seq: before[0], id: before[1] });
    return pageOf(await query.getMany(), limit, toBuildDto, (row) => [Number(row.seq), row.id]);
  }
}
