import { Controller, Get, Header, HttpException, HttpStatus, Inject, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { csrfTokenOf, type Config } from '#infra';
import { CONFIG } from '#kernel';
import { bearerOf } from '../auth/admin.guard.js';
import { ADMIN_SCHEME } from '../auth/api-admin.js';
import { CallerPipe } from '../auth/caller.js';
import { SessionAuthenticator } from '../auth/sessions.js';
import { apiSchema } from '../queries/openapi-schema.js';
import { errorAnswer } from '../queries/page.js';
import { MeDto, SignedOutDto } from './me.dto.js';

const LOCAL_NOTE =
  'Sign-in is off (no GITHUB_CLIENT_ID/GITHUB_CLIENT_SECRET) and this server answers on loopback only: this browser on this machine acts as the admin.';

/** `GET /api/v1/me`: who the dashboard (or a script) is, with the session's CSRF token. */
@ApiTags('sign-in')
@Controller('api/v1/me')
export class MeController {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CallerPipe) private readonly bearer: CallerPipe,
    @Inject(SessionAuthenticator) private readonly sessions: SessionAuthenticator,
  ) {}

  @Get()
  // The answer holds the CSRF token: no cache keeps it.
  @Header('Cache-Control', 'no-store')
  @ApiBearerAuth(ADMIN_SCHEME)
  @ApiOperation({ summary: 'Who is asking: a session (cookie), the admin token or an owner token' })
  @ApiOkResponse({ schema: apiSchema(MeDto) })
  @ApiUnauthorizedResponse({ schema: apiSchema(SignedOutDto), description: 'Not signed in (or the session expired): how to sign in' })
  @ApiForbiddenResponse(errorAnswer('A bearer token that is neither the admin token nor an owner token'))
  async me(@Req() request: FastifyRequest): Promise<MeDto> {
    const signIn = this.config.signIn.mode;
    const authorization = request.headers.authorization;
    if (bearerOf(authorization) !== undefined) {
      const caller = await this.bearer.transform(authorization);
      const common = { signIn, csrfToken: null, expiresAt: null, note: null };
      return caller.kind === 'admin'
        ? { login: 'admin', admin: true, owners: [], via: 'admin-token', ...common }
        : { login: null, admin: false, owners: [caller.owner], via: 'owner-token', ...common };
    }
    const open = await this.sessions.sessionOf(request).catch(() => null);
    if (open === null) {
      const message =
        signIn === 'off'
          ? 'not signed in, and sign-in is not configured on this server: use an API token'
          : 'not signed in: GET /auth/login?returnTo=/ signs in';
      throw new HttpException({ message, signIn, loginUrl: signIn === 'off' ? null : '/auth/login' }, HttpStatus.UNAUTHORIZED);
    }
    return {
      login: open.session.login,
      admin: open.admin,
      owners: [...open.owners],
      via: 'session',
      signIn,
      csrfToken: csrfTokenOf(open.id),
      expiresAt: open.session.expiresAt.toISOString(),
      note: open.session.kind === 'local' ? LOCAL_NOTE : null,
    };
  }
}
