import { Controller, Get, Inject, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiNotFound, notFound } from '../../queries/page.js';
import { functionNameParam } from '../../queries/query-params.js';
import { FunctionDto } from '../function.dto.js';
import { ReadFunctionQuery } from './read-function.query.js';

/** `GET /api/v1/functions/{name}`: public; 404 for a name no push ever declared. */
@ApiTags('functions')
@Controller('api/v1/functions')
export class ReadFunctionController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get(':name')
  @ApiOperation({ summary: 'One function as it is now' })
  @ApiParam({ name: 'name', type: String, description: 'OpenFaaS service name, e.g. alexellis-fn1' })
  @ApiOkResponse({ type: FunctionDto })
  @ApiNotFound()
  async read(@Param('name') name: string): Promise<FunctionDto> {
    const found = await this.queries.execute<ReadFunctionQuery, FunctionDto | null>(new ReadFunctionQuery(functionNameParam(name)));
    if (!found) throw notFound(`no function ${name}`);
    return found;
  }
}
