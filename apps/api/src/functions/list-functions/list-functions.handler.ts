import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { FUNCTIONS_READ_MODEL, type FunctionsReadModel } from '#infra';
import { pageOf, type Page } from '../../queries/page.js';
import { toFunctionDto, type FunctionDto } from '../function.dto.js';
import { ListFunctionsQuery } from './list-functions.query.js';

/** Functions by name; private ones only for an admin. */
@QueryHandler(ListFunctionsQuery)
export class ListFunctionsHandler implements IQueryHandler<ListFunctionsQuery, Page<FunctionDto>> {
  constructor(@Inject(FUNCTIONS_READ_MODEL) private readonly functions: FunctionsReadModel) {}

  async execute({ filter, limit, after, audience }: ListFunctionsQuery): Promise<Page<FunctionDto>> {
    return pageOf(await this.functions.list(filter, { limit, after, audience }), toFunctionDto, (row) => [row.name]);
  }
}
