import { Controller, Get, Headers, Inject, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiAudience, audienceOf, PRIVATE_NOTE } from '../../queries/audience.js';
import { ApiNotFound, notFound } from '../../queries/page.js';
import { buildIdParam } from '../../queries/query-params.js';
import { BuildDto } from '../build.dto.js';
import { ReadBuildQuery } from './read-build.query.js';
import { ADMIN_TOKEN } from '../../tokens.js';

/** `GET /api/v1/builds/{id}`: public like the function's build list (private repositories' for an admin); the log stays behind `/log`. */
@ApiTags('builds')
@Controller('api/v1/builds')
export class ReadBuildController {
  constructor(
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(ADMIN_TOKEN) private readonly adminToken: string,
  ) {}

  @Get(':id')
  @ApiOperation({ summary: 'One build', description: `${PRIVATE_NOTE} Anyone else gets 404.` })
  @ApiAudience()
  @ApiParam({ name: 'id', type: String, description: 'Build id (from a build list or a commit status link)' })
  @ApiOkResponse({ type: BuildDto })
  @ApiNotFound()
  async read(@Param('id') id: string, @Headers('authorization') authorization: string | undefined): Promise<BuildDto> {
    const found = await this.queries.execute<ReadBuildQuery, BuildDto | null>(new ReadBuildQuery(buildIdParam(id), audienceOf(authorization, this.adminToken)));
    if (!found) throw notFound(`no build ${id}`);
    return found;
  }
}
