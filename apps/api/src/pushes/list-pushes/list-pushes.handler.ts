import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { PUSHES_READ_MODEL, type PushesReadModel } from '#infra';
import { pageOf, type Page } from '../../queries/page.js';
import { toPushDto, type PushDto } from './list-pushes.dto.js';
import { ListPushesQuery } from './list-pushes.query.js';

/** A repository's pushes, newest first; pushes of private repositories only for an admin. */
@QueryHandler(ListPushesQuery)
export class ListPushesHandler implements IQueryHandler<ListPushesQuery, Page<PushDto>> {
  constructor(@Inject(PUSHES_READ_MODEL) private readonly pushes: PushesReadModel) {}

  async execute({ owner, repo, limit, before, audience }: ListPushesQuery): Promise<Page<PushDto>> {
    return pageOf(await this.pushes.ofRepository(owner, repo, { limit, before, audience }), toPushDto, (row) => [Number(row.seq)]);
  }
}
