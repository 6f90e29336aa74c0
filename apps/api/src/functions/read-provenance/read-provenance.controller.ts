import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { AdminGuard } from '../../auth/admin.guard.js';
import { ApiAdmin } from '../../auth/api-admin.js';
import { apiSchema } from '../../queries/openapi-schema.js';
import { ApiNotFound, notFound } from '../../queries/page.js';
import { ValidPath } from '../../queries/api-params.decorator.js';
import { functionNamePath } from '../../queries/query-params.schema.js';
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
  @ApiOkResponse({ schema: apiSchema(ProvenanceDto) })
  @ApiNotFound()
  async read(@ValidPath(functionNamePath) { name }: z.output<typeof functionNamePath>): Promise<ProvenanceDto> {
    const found = await this.queries.execute<ReadProvenanceQuery, Provenance>(new ReadProvenanceQuery(name));
    if (found === 'unknown') throw notFound(`no function ${name}`);
    if (found === 'never-deployed') throw notFound(`function ${name} has never been deployed`);
    return found;
  }
}
