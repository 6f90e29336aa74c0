import { Controller, Get, Inject } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { ApiAudience, PRIVATE_NOTE, type Audience } from '../../auth/audience.js';
import { ReadAudience } from '../../auth/audience.pipe.js';
import { apiSchema } from '../../queries/openapi-schema.js';
import { ApiNotFound, notFound } from '../../queries/page.js';
import { ValidPath } from '../../queries/api-params.decorator.js';
import { functionNamePath } from '../../queries/query-params.schema.js';
import { FunctionDto } from '../function.dto.js';
import { ReadFunctionQuery } from './read-function.query.js';

/** `GET /api/v1/functions/{name}`: public; 404 for a name no push ever declared, or of a private repository to anyone but an admin. */
@ApiTags('functions')
@Controller('api/v1/functions')
export class ReadFunctionController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get(':name')
  @ApiOperation({ summary: 'One function as it is now', description: `${PRIVATE_NOTE} Anyone else gets 404.` })
  @ApiAudience()
  @ApiOkResponse({ schema: apiSchema(FunctionDto) })
  @ApiNotFound()
  async read(
    @ValidPath(functionNamePath) { name }: z.output<typeof functionNamePath>,
    @ReadAudience() audience: Audience,
  ): Promise<FunctionDto> {
    const query = new ReadFunctionQuery(name, audience);
    const found = await this.queries.execute<ReadFunctionQuery, FunctionDto | null>(query);
    if (!found) throw notFound(`no function ${name}`);
    return found;
  }
}
