import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadPush, type Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { pageOf, type Page } from '../../queries/page.js';
import { toPushDto, type PushDto } from './list-pushes.dto.js';
import { ListPushesQuery } from './list-pushes.query.js';

/**
 * A repository's pushes, newest first, by the position of the push's own event (index read_pushes_repo). A row
 * whose push is not projected yet (a status can arrive first from Kafka) has no position and is not listed.
 * Pushes of private repositories only for an admin.
 */
@QueryHandler(ListPushesQuery)
export class ListPushesHandler implements IQueryHandler<ListPushesQuery, Page<PushDto>> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ owner, repo, limit, before, audience }: ListPushesQuery): Promise<Page<PushDto>> {
    const query = this.backbone.db
      .getRepository(ReadPush)
      .createQueryBuilder('p')
      .where('lower(p.owner) = lower(:owner) AND lower(p.repo) = lower(:repo) AND p.seq IS NOT NULL', { owner, repo })
      .orderBy('p.seq', 'DESC')
      .limit(limit + 1);
    if (before !== undefined) query.andWhere('p.seq < :before', { before });
    // Unknown is not public: an ignored push does not say whether its repository is private.
    if (audience !== 'admin') query.andWhere('p.private = false');
    return pageOf(await query.getMany(), limit, toPushDto, (row) => [Number(row.seq)]);
  }
}
