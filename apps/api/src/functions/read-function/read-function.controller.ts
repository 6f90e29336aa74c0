import { Controller, Get, Headers, Inject, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiAudience, audienceOf, PRIVATE_NOTE } from '../../queries/audience.js';
import { ApiNotFound, notFound } from '../../queries/page.js';
import { functionNameParam } from '../../queries/query-params.js';
import { FunctionDto } from '../function.dto.js';
import { ReadFunctionQuery } from './read-function.query.js';
import { ADMIN_TOKEN } from '../../tokens.js';

/** `GET /api/v1/functions/{name}`: public; 404 for a name no push ever declared, or of a private repository to anyone but an admin. */
@ApiTags('functions')
@Controller('api/v1/functions')
export class ReadFunctionController {
  constructor(
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(ADMIN_TOKEN) private readonly adminToken: string,
  ) {}

  @Get(':name')
  @ApiOperation({ summary: 'One function as it is now', description: `${PRIVATE_NOTE} Anyone else gets 404.` })
  @ApiAudience()
  @ApiParam({ name: 'name', type: String, description: 'OpenFaaS service name, e.g. alexellis-fn1' })
  @ApiOkResponse({ type: FunctionDto })
  @ApiNotFound()
  async read(@Param('name') name: string, @Headers('authorization') authorization: string | undefined): Promise<FunctionDto> {
    const query = new ReadFunctionQuery(functionNameParam(name), audienceOf(authorization, this.adminToken));
    const found = await this.queries.execute<ReadFunctionQuery, FunctionDto | null>(query);
    if (!found) throw notFound(`no function ${name}`);
    return found;
  }
}
