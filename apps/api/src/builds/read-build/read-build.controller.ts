import { Controller, Get, Inject } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiAudience, PRIVATE_NOTE, type Audience } from '../../auth/audience.js';
import { ReadAudience } from '../../auth/audience.pipe.js';
import { apiSchema } from '../../queries/openapi-schema.js';
import { ApiNotFound, notFound } from '../../queries/page.js';
import { ValidPath } from '../../queries/api-params.decorator.js';
import { buildId } from '../../queries/query-params.schema.js';
import { BuildDto } from '../build.dto.js';
import { ReadBuildQuery } from './read-build.query.js';

const readBuildPath = z.object({ id: buildId.describe('Build id (from a build list or a commit status link)') });

/** `GET /api/v1/builds/{id}`: public like the function's build list (private repositories' for an admin); the log stays behind `/log`. */
@ApiTags('builds')
@Controller('api/v1/builds')
export class ReadBuildController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get(':id')
  @ApiOperation({ summary: 'One build', description: `${PRIVATE_NOTE} Anyone else gets 404.` })
  @ApiAudience()
  @ApiOkResponse({ schema: apiSchema(BuildDto) })
  @ApiNotFound()
  async read(@ValidPath(readBuildPath) { id }: z.output<typeof readBuildPath>, @ReadAudience() audience: Audience): Promise<BuildDto> {
    const found = await this.queries.execute<ReadBuildQuery, BuildDto | null>(new ReadBuildQuery(id, audience));
    if (!found) throw notFound(`no build ${id}`);
    return found;
  }
}
