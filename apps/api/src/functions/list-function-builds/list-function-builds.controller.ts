import { Controller, Get, Inject } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { BuildDto } from '../../builds/build.dto.js';
import { ApiAudience, PRIVATE_NOTE, type Audience } from '../../auth/audience.js';
import { ReadAudience } from '../../auth/audience.pipe.js';
import { ValidPath, ValidQuery } from '../../queries/api-params.decorator.js';
import { ApiPage, pageParams, type Page } from '../../queries/page.js';
import { functionNamePath, positionKey } from '../../queries/query-params.schema.js';
import { BuildPage } from './list-function-builds.dto.js';
import { ListFunctionBuildsQuery } from './list-function-builds.query.js';

const listBuildsQuery = z.object(pageParams(positionKey<[string]>(1)));

/** `GET /api/v1/functions/{name}/builds`: public build history, newest first; an unknown name has none. */
@ApiTags('functions')
@Controller('api/v1/functions')
export class ListFunctionBuildsController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get(':name/builds')
  @ApiOperation({ summary: "A function's builds, newest first", description: PRIVATE_NOTE })
  @ApiAudience()
  @ApiPage(BuildPage)
  list(
    @ValidPath(functionNamePath) { name }: z.output<typeof functionNamePath>,
    @ValidQuery(listBuildsQuery) { limit, cursor }: z.output<typeof listBuildsQuery>,
    @ReadAudience() audience: Audience,
  ): Promise<Page<BuildDto>> {
    return this.queries.execute(new ListFunctionBuildsQuery(name, limit, cursor, audience));
  }
}
