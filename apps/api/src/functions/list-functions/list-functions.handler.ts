import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadFunction, type Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { publicFunction } from '../../queries/audience.js';
import { pageOf, type Page } from '../../queries/page.js';
import { toFunctionDto, type FunctionDto } from '../function.dto.js';
import { ListFunctionsQuery } from './list-functions.query.js';

/** Functions by name; owner and repo match case-insensitively (GitHub logins are). Private ones only for an admin. */
@QueryHandler(ListFunctionsQuery)
export class ListFunctionsHandler implements IQueryHandler<ListFunctionsQuery, Page<FunctionDto>> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ filter, limit, after, audience }: ListFunctionsQuery): Promise<Page<FunctionDto>> {
    const query = this.backbone.db.getRepository(ReadFunction).createQueryBuilder('f').orderBy('f.name', 'ASC').limit(limit + 1);
    if (filter.owner !== undefined) query.andWhere('lower(f.owner) = lower(:owner)', { owner: filter.owner });
    if (filter.repo !== undefined) query.andWhere('lower(f.repo) = lower(:repo)', { repo: filter.repo });
    if (after !== undefined) query.andWhere('f.name > :after', { after });
    if (audience !== 'admin') query.andWhere(publicFunction);
    return pageOf(await query.getMany(), limit, toFunctionDto, (row) => [row.name]);
  }
}
