import { Controller, Get, Inject } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiAudience, PRIVATE_NOTE, type Audience } from '../../auth/audience.js';
import { ReadAudience } from '../../auth/audience.pipe.js';
import { ValidPath, ValidQuery } from '../../queries/api-params.decorator.js';
import { ApiPage, pageParams, type Page } from '../../queries/page.js';
import { owner, positionKey, repo } from '../../queries/query-params.schema.js';
import { PushPage, type PushDto } from './list-pushes.dto.js';
import { ListPushesQuery } from './list-pushes.query.js';

const listPushesPath = z.object({ owner, repo });
const listPushesQuery = z.object(pageParams(positionKey()));

/** `GET /api/v1/repos/{owner}/{repo}/pushes`: public (private repositories' for an admin), newest first; owner and repo match case-insensitively. */
@ApiTags('pushes')
@Controller('api/v1/repos')
export class ListPushesController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get(':owner/:repo/pushes')
  @ApiOperation({
    summary: "A repository's pushes and their pipeline outcome, newest first",
    description: `${PRIVATE_NOTE} Anyone else sees only pushes known to be of a public repository (an ignored push does not say, so it is listed only to an admin).`,
  })
  @ApiAudience()
  @ApiPage(PushPage)
  list(
    @ValidPath(listPushesPath) { owner, repo }: z.output<typeof listPushesPath>,
    @ValidQuery(listPushesQuery) { limit, cursor }: z.output<typeof listPushesQuery>,
    @ReadAudience() audience: Audience,
  ): Promise<Page<PushDto>> {
    return this.queries.execute(new ListPushesQuery(owner, repo, limit, cursor?.[0], audience));
  }
}
