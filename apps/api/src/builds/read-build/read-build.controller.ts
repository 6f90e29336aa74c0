import { Controller, Get, Inject, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiNotFound, notFound } from '../../queries/page.js';
import { buildIdParam } from '../../queries/query-params.js';
import { BuildDto } from '../build.dto.js';
import { ReadBuildQuery } from './read-build.query.js';

/** `GET /api/v1/builds/{id}`: public like the function's build list; the log stays behind `/log`. */
@ApiTags('builds')
@Controller('api/v1/builds')
export class ReadBuildController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get(':id')
  @ApiOperation({ summary: 'One build' })
  @ApiParam({ name: 'id', type: String, description: 'Build id (from a build list or a commit status link)' })
  @ApiOkResponse({ type: BuildDto })
  @ApiNotFound()
  async read(@Param('id') id: string): Promise<BuildDto> {
    const found = await this.queries.execute<ReadBuildQuery, BuildDto | null>(new ReadBuildQuery(buildIdParam(id)));
    if (!found) throw notFound(`no build ${id}`);
    return found;
  }
}
