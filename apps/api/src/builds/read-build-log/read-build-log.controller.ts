import { Controller, Get, Header, Headers, HttpException, HttpStatus, Inject, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { bearerOf, isAdmin } from '../../auth/admin.guard.js';
import type { Links } from '../../pipeline/pipeline-parts.js';
import { ADMIN_TOKEN, LINKS } from '../../tokens.js';
import { ReadBuildLogQuery } from './read-build-log.query.js';

/**
 * `GET /api/v1/builds/{id}/log`: for an admin (bearer ADMIN_TOKEN) or for the owner, who gets the signed link on
 * the commit status. OpenFaaS Cloud served build logs to anyone who knew the id.
 */
const EXPIRES = /^\d{1,12}$/;

@Controller('api/v1/builds')
export class ReadBuildLogController {
  constructor(
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(ADMIN_TOKEN) private readonly adminToken: string,
    @Inject(LINKS) private readonly links: Links,
  ) {}

  @Get(':id/log')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  async read(
    @Param('id') buildId: string,
    @Query('expires') expires: string | undefined,
    @Query('token') token: string | undefined,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<string> {
    if (bearerOf(authorization) === undefined && token === undefined) throw new HttpException({ message: 'an admin token or the signed link from the commit status is required' }, HttpStatus.UNAUTHORIZED);
    if (!isAdmin(authorization, this.adminToken)) this.checkLink(buildId, expires, token);
    const log = await this.queries.execute<ReadBuildLogQuery, string | null>(new ReadBuildLogQuery(buildId));
    if (log === null) throw new HttpException({ message: `no build ${buildId}` }, HttpStatus.NOT_FOUND);
    return `${log}\n`;
  }

  private checkLink(buildId: string, expires: string | undefined, token: string | undefined): void {
    // A link without an expiry is one signed before links had their own key: it opens nothing now.
    const check = token !== undefined && expires !== undefined && EXPIRES.test(expires) ? this.links.checkBuildLog(buildId, Number(expires), token) : 'wrong';
    if (check === 'expired') {
      throw new HttpException({ message: `this build log link expired at ${new Date(Number(expires) * 1000).toISOString()}; an admin token still opens the log` }, HttpStatus.FORBIDDEN);
    }
    if (check === 'wrong') throw new HttpException({ message: 'this token does not open this build log' }, HttpStatus.FORBIDDEN);
  }
}
