import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { BUILD_DTO_COLUMNS, type BuildDto } from '../../builds/build.dto.js';
import { publicPush } from '../../queries/audience.js';
import { pageOf, type Page } from '../../queries/page.js';
import { ListFunctionBuildsQuery } from './list-function-builds.query.js';

/**
 * A function's builds, newest first: by the position of each build's first event (index read_builds_function).
 * Builds of private repositories' pushes only for an admin.
 */
@QueryHandler(ListFunctionBuildsQuery)
export class ListFunctionBuildsHandler implements IQueryHandler<ListFunctionBuildsQuery, Page<BuildDto>> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ name, limit, before, audience }: ListFunctionBuildsQuery): Promise<Page<BuildDto>> {
    // `seq <=` lets the index start at the cursor; the row comparison then breaks a tie on seq by id.
    const rows: (BuildDto & { seq: string })[] = await this.backbone.db.query(
      `SELECT ${BUILD_DTO_COLUMNS}, b.seq FROM read_builds b
        WHERE b.function_name = $1 ${before ? 'AND b.seq <= $3 AND (b.seq, b.id) < ($3, $4)' : ''} ${audience === 'admin' ? '' : `AND ${publicPush('b.delivery_id')}`}
        ORDER BY b.seq DESC, b.id DESC LIMIT $2`,
      before ? [name, limit + 1, before[0], before[1]] : [name, limit + 1],
    );
    return pageOf(rows, limit, ({ seq: _seq, ...build }) => build, (row) => [Number(row.seq), row.id]);
  }
}
