import { Controller, Get, Headers, Inject, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiAudience, audienceOf, PRIVATE_NOTE } from '../../queries/audience.js';
import { ApiPage, decodeCursor, positionKey, type Page } from '../../queries/page.js';
import { limitParam, ownerParam, repoParam, type RawParam } from '../../queries/query-params.js';
import { PushPage, type PushDto } from './list-pushes.dto.js';
import { ListPushesQuery } from './list-pushes.query.js';
import { ADMIN_TOKEN } from '../../tokens.js';

/** `GET /api/v1/repos/{owner}/{repo}/pushes`: public (private repositories' for an admin), newest first; owner and repo match case-insensitively. */
@ApiTags('pushes')
@Controller('api/v1/repos')
export class ListPushesController {
  constructor(
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(ADMIN_TOKEN) private readonly adminToken: string,
  ) {}

  @Get(':owner/:repo/pushes')
  @ApiOperation({
    summary: "A repository's pushes and their pipeline outcome, newest first",
    description: `${PRIVATE_NOTE} Anyone else sees only pushes known to be of a public repository (an ignored push does not say, so it is listed only to an admin).`,
  })
  @ApiAudience()
  @ApiParam({ name: 'owner', type: String, description: 'GitHub owner (case-insensitive)' })
  @ApiParam({ name: 'repo', type: String, description: 'GitHub repository (case-insensitive)' })
  @ApiPage(PushPage)
  list(
    @Param('owner') owner: string,
    @Param('repo') repo: string,
    @Query('limit') limit: RawParam,
    @Query('cursor') cursor: RawParam,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<Page<PushDto>> {
    const audience = audienceOf(authorization, this.adminToken);
    const query = new ListPushesQuery(ownerParam('owner', owner)!, repoParam('repo', repo)!, limitParam(limit), decodeCursor(cursor, positionKey())?.[0], audience);
    return this.queries.execute(query);
  }
}
