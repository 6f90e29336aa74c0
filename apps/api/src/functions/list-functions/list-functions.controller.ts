import { Controller, Get, Headers, Inject, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiAudience, audienceOf, PRIVATE_NOTE } from '../../queries/audience.js';
import { ApiPage, decodeCursor, type Page } from '../../queries/page.js';
import { limitParam, ownerParam, repoParam, type RawParam } from '../../queries/query-params.js';
import type { FunctionDto } from '../function.dto.js';
import { FunctionPage } from './list-functions.dto.js';
import { ListFunctionsQuery } from './list-functions.query.js';
import { ADMIN_TOKEN } from '../../tokens.js';

const isNameKey = (key: unknown): key is [string] => Array.isArray(key) && key.length === 1 && typeof key[0] === 'string';

/** `GET /api/v1/functions?owner=&repo=`: public, as OpenFaaS Cloud's function lists were, except private repositories'. */
@ApiTags('functions')
@Controller('api/v1/functions')
export class ListFunctionsController {
  constructor(
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(ADMIN_TOKEN) private readonly adminToken: string,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Current functions, by name', description: PRIVATE_NOTE })
  @ApiAudience()
  @ApiQuery({ name: 'owner', required: false, type: String, description: 'GitHub owner (case-insensitive)' })
  @ApiQuery({ name: 'repo', required: false, type: String, description: 'GitHub repository (case-insensitive)' })
  @ApiPage(FunctionPage)
  list(
    @Query('owner') owner: RawParam,
    @Query('repo') repo: RawParam,
    @Query('limit') limit: RawParam,
    @Query('cursor') cursor: RawParam,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<Page<FunctionDto>> {
    const query = new ListFunctionsQuery(
      { owner: ownerParam('owner', owner), repo: repoParam('repo', repo) },
      limitParam(limit),
      decodeCursor(cursor, isNameKey)?.[0],
      audienceOf(authorization, this.adminToken),
    );
    return this.queries.execute(query);
  }
}
