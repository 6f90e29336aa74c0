import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiPage, decodeCursor, positionKey, type Page } from '../../queries/page.js';
import { limitParam, ownerParam, repoParam, type RawParam } from '../../queries/query-params.js';
import { PushPage, type PushDto } from './list-pushes.dto.js';
import { ListPushesQuery } from './list-pushes.query.js';

/** `GET /api/v1/repos/{owner}/{repo}/pushes`: public, newest first; owner and repo match case-insensitively. */
@ApiTags('pushes')
@Controller('api/v1/repos')
export class ListPushesController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get(':owner/:repo/pushes')
  @ApiOperation({ summary: "A repository's pushes and their pipeline outcome, newest first" })
  @ApiParam({ name: 'owner', type: String, description: 'GitHub owner (case-insensitive)' })
  @ApiParam({ name: 'repo', type: String, description: 'GitHub repository (case-insensitive)' })
  @ApiPage(PushPage)
  list(@Param('owner') owner: string, @Param('repo') repo: string, @Query('limit') limit: RawParam, @Query('cursor') cursor: RawParam): Promise<Page<PushDto>> {
    const query = new ListPushesQuery(ownerParam('owner', owner)!, repoParam('repo', repo)!, limitParam(limit), decodeCursor(cursor, positionKey())?.[0]);
    return this.queries.execute(query);
  }
}
