import { Controller, Get, Header, HttpException, HttpStatus, Inject, Param, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { BuildView } from '#infra';
import { bearerOf } from '../../auth/admin.guard.js';
import { mayManage, RequestCallerPipe } from '../../auth/caller.js';
import { cookiesOf, SESSION_COOKIE, type CookieRequest } from '../../auth/sessions.js';
import type { Links } from '../../links/signed-links.js';
import { LINKS } from '../../tokens.js';
import { ReadBuildQuery } from '../read-build/read-build.query.js';
import { ReadBuildLogQuery } from './read-build-log.query.js';

/**
 * `GET /api/v1/builds/{id}/log`: for an admin (bearer ADMIN_TOKEN or session) or for the owner, with an owner token,
 * a session of the owner (or a member of the organisation), or the signed link on the commit status. OpenFaaS Cloud served build logs to anyone who knew the id.
 */
const EXPIRES = /^\d{1,12}$/;

@Controller('api/v1/builds')
export class ReadBuildLogController {
  constructor(
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(RequestCallerPipe) private readonly callers: RequestCallerPipe,
    @Inject(LINKS) private readonly links: Links,
  ) {}

  @Get(':id/log')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  async read(
    @Param('id') buildId: string,
    @Query('expires') expires: string | undefined,
    @Query('token') token: string | undefined,
    @Req() request: CookieRequest,
  ): Promise<string> {
    const credentials = bearerOf(request.headers.authorization) !== undefined || cookiesOf(request)[SESSION_COOKIE] !== undefined;
    if (!credentials && token === undefined)
      throw new HttpException(
        { message: 'an admin token, the owner’s token, a session or the signed link from the commit status is required' },
        HttpStatus.UNAUTHORIZED,
      );
    // A token or session that opens the log wins; otherwise the link decides (its refusal says why it does not open it).
    if (!credentials || !(await this.callerMayRead(buildId, request))) {
      if (token === undefined) throw new HttpException({ message: 'this token does not open this build log' }, HttpStatus.FORBIDDEN);
      this.checkLink(buildId, expires, token);
    }
    const log = await this.queries.execute<ReadBuildLogQuery, string | null>(new ReadBuildLogQuery(buildId));
    if (log === null) throw new HttpException({ message: `no build ${buildId}` }, HttpStatus.NOT_FOUND);
    return `${log}\n`;
  }

  /** The admin, or the owner of the build's function; another owner learns no more than a stranger. */
  private async callerMayRead(buildId: string, request: CookieRequest): Promise<boolean> {
    const caller = await this.callers.transform(request).catch(() => null);
    if (caller === null) return false;
    if (caller.kind === 'admin') return true;
    const build = await this.queries.execute<ReadBuildQuery, BuildView | null>(new ReadBuildQuery(buildId, 'admin'));
    return build !== null && mayManage(caller, build.owner);
  }

  private checkLink(buildId: string, expires: string | undefined, token: string | undefined): void {
    // A link without an expiry is one signed before links had their own key: it opens nothing now.
    const check =
      token !== undefined && expires !== undefined && EXPIRES.test(expires)
        ? this.links.checkBuildLog(buildId, Number(expires), token)
        : 'wrong';
    if (check === 'expired') {
      throw new HttpException(
        { message: `this build log link expired at ${new Date(Number(expires) * 1000).toISOString()}; an admin token still opens the log` },
        HttpStatus.FORBIDDEN,
      );
    }
    if (check === 'wrong') throw new HttpException({ message: 'this token does not open this build log' }, HttpStatus.FORBIDDEN);
  }
}
