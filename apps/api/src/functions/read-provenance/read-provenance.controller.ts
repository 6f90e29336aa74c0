import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../../auth/admin.guard.js';
import { ApiAdmin } from '../../auth/api-admin.js';
import { ApiNotFound, notFound } from '../../queries/page.js';
import { functionNameParam } from '../../queries/query-params.js';
import { ProvenanceDto } from './read-provenance.dto.js';
import type { Provenance } from './read-provenance.handler.js';
import { ReadProvenanceQuery } from './read-provenance.query.js';

/** `GET /api/v1/functions/{name}/provenance` (admin): why is this function at this SHA. */
@ApiTags('audit')
@Controller('api/v1/functions')
@UseGuards(AdminGuard)
@ApiAdmin()
export class ReadProvenanceController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get(':name/provenance')
  @ApiOperation({ summary: 'Why a function is at its SHA: causation from its FunctionDeployed back to the push' })
  @ApiParam({ name: 'name', type: String, description: 'OpenFaaS service name, e.g. alexellis-fn1' })
  @ApiOkResponse({ type: ProvenanceDto })
  @ApiNotFound()
  async read(@Param('name') name: string): Promise<ProvenanceDto> {
    const found = await this.queries.execute<ReadProvenanceQuery, Provenance>(new ReadProvenanceQuery(functionNameParam(name)));
    if (found === 'unknown') throw notFound(`no function ${name}`);
    if (found === 'never-deployed') throw notFound(`function ${name} has never been deployed`);
    return found;
  }
}
