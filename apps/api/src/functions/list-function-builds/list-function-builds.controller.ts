import { Controller, Get, Headers, Inject, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { BuildDto } from '../../builds/build.dto.js';
import { ApiAudience, audienceOf, PRIVATE_NOTE } from '../../queries/audience.js';
import { ApiPage, decodeCursor, positionKey, type Page } from '../../queries/page.js';
import { functionNameParam, limitParam, type RawParam } from '../../queries/query-params.js';
import { BuildPage } from './list-function-builds.dto.js';
import { ListFunctionBuildsQuery } from './list-function-builds.query.js';
import { ADMIN_TOKEN } from '../../tokens.js';

/** `GET /api/v1/functions/{name}/builds`: public build history, newest first; an unknown name has none. */
@ApiTags('functions')
@Controller('api/v1/functions')
export class ListFunctionBuildsController {
  constructor(
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(ADMIN_TOKEN) private readonly adminToken: string,
  ) {}

  @Get(':name/builds')
  @ApiOperation({ summary: "A function's builds, newest first", description: PRIVATE_NOTE })
  @ApiAudience()
  @ApiParam({ name: 'name', type: String, description: 'OpenFaaS service name, e.g. alexellis-fn1' })
  @ApiPage(BuildPage)
  list(
    @Param('name') name: string,
    @Query('limit') limit: RawParam,
    @Query('cursor') cursor: RawParam,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<Page<BuildDto>> {
    const before = decodeCursor(cursor, positionKey(1)) as [number, string] | undefined;
    return this.queries.execute(new ListFunctionBuildsQuery(functionNameParam(name), limitParam(limit), before, audienceOf(authorization, this.adminToken)));
  }
}
