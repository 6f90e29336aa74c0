import { Controller, Get, Inject } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiAudience, PRIVATE_NOTE, type Audience } from '../../auth/audience.js';
import { ReadAudience } from '../../auth/audience.pipe.js';
import { ValidQuery } from '../../queries/api-params.decorator.js';
import { ApiPage, pageParams, type Page } from '../../queries/page.js';
import { owner, repo } from '../../queries/query-params.schema.js';
import type { FunctionDto } from '../function.dto.js';
import { FunctionPage } from './list-functions.dto.js';
import { ListFunctionsQuery } from './list-functions.query.js';

const isNameKey = (key: unknown): key is [string] => Array.isArray(key) && key.length === 1 && typeof key[0] === 'string';
const listFunctionsQuery = z.object({ owner: owner.optional(), repo: repo.optional(), ...pageParams(isNameKey) });

/** `GET /api/v1/functions?owner=&repo=`: public, as OpenFaaS Cloud's function lists were, except private repositories'. */
@ApiTags('functions')
@Controller('api/v1/functions')
export class ListFunctionsController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'Current functions, by name', description: PRIVATE_NOTE })
  @ApiAudience()
  @ApiPage(FunctionPage)
  list(
    @ValidQuery(listFunctionsQuery) { owner, repo, limit, cursor }: z.output<typeof listFunctionsQuery>,
    @ReadAudience() audience: Audience,
  ): Promise<Page<FunctionDto>> {
    return this.queries.execute(new ListFunctionsQuery({ owner, repo }, limit, cursor?.[0], audience));
  }
}
