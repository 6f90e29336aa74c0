import {
  applyDecorators,
  createParamDecorator,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  type ExecutionContext,
  type PipeTransform,
} from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Actor } from '#domain';
import { constantTimeEqual, looksLikeOwnerToken, ownerTokenHash, type OwnerTokenStore } from '#infra';
import { errorAnswer } from '../queries/page.js';
import { ADMIN_TOKEN, OWNER_TOKENS } from '../tokens.js';
import { bearerOf } from './admin.guard.js';
import { ADMIN_SCHEME } from './api-admin.js';
import { SessionAuthenticator, type CookieRequest, type SessionCaller } from './sessions.js';

/**
 * Who calls a route that needs a token: the admin (ADMIN_TOKEN), an owner through one of its API tokens, or a
 * signed-in user (a session: their login and organisations, or everything for an admin by ADMIN_LOGINS).
 */
export type BearerCaller = Readonly<{ kind: 'admin'; actor: 'admin' }> | Readonly<{ kind: 'owner'; owner: string; actor: string }>;
export type Caller = BearerCaller | SessionCaller;

/**
 * Whether the caller may manage what belongs to `owner`: an admin, that owner, or a user who is that owner or a
 * member of that organisation (GitHub logins ignore case).
 */
export function mayManage(caller: Caller, owner: string): boolean {
  const wanted = owner.toLowerCase();
  switch (caller.kind) {
    case 'admin':
      return true;
    case 'owner':
      return caller.owner.toLowerCase() === wanted;
    case 'user':
      return caller.admin || caller.owners.some((one) => one.toLowerCase() === wanted);
  }
}

/** Whether the caller sees and does everything: the admin token, or an admin's session. */
export const isAdminCaller = (caller: Caller) => caller.kind === 'admin' || (caller.kind === 'user' && caller.admin);

/** The caller as the events it causes name it. */
export function actorOf(caller: Caller): Actor {
  return caller.kind === 'admin' ? 'admin:admin-token' : (caller.actor as Actor);
}

/**
 * `Authorization: Bearer <ADMIN_TOKEN | owner token>`: 401 without a bearer token, 403 for one that is neither
 * the admin token (compared in constant time) nor an unrevoked owner token.
 */
@Injectable()
export class CallerPipe implements PipeTransform<string | undefined, Promise<BearerCaller>> {
  constructor(
    @Inject(ADMIN_TOKEN) private readonly adminToken: string,
    @Inject(OWNER_TOKENS) private readonly ownerTokens: OwnerTokenStore,
  ) {}

  async transform(authorization: string | undefined): Promise<BearerCaller> {
    const bearer = bearerOf(authorization);
    if (bearer === undefined)
      throw new HttpException({ message: 'Authorization: Bearer <ADMIN_TOKEN or owner token> is required' }, HttpStatus.UNAUTHORIZED);
    if (constantTimeEqual(bearer, this.adminToken)) return { kind: 'admin', actor: 'admin' };
    const token = looksLikeOwnerToken(bearer) ? await this.ownerTokens.findActive(ownerTokenHash(bearer)) : null;
    if (token === null) throw new HttpException({ message: 'unknown or revoked token' }, HttpStatus.FORBIDDEN);
    return { kind: 'owner', owner: token.owner, actor: `owner:${token.owner}:${token.id}` };
  }
}

/**
 * A bearer token when the request has one (it decides alone: a script's token is never mixed with a browser's
 * cookie), else the session cookie, whose state-changing requests need their CSRF token.
 */
@Injectable()
export class RequestCallerPipe implements PipeTransform<CookieRequest, Promise<Caller>> {
  constructor(
    @Inject(CallerPipe) private readonly bearer: CallerPipe,
    @Inject(SessionAuthenticator) private readonly sessions: SessionAuthenticator,
  ) {}

  async transform(request: CookieRequest): Promise<Caller> {
    const authorization = request.headers.authorization;
    const header = Array.isArray(authorization) ? authorization[0] : authorization;
    if (header !== undefined) return this.bearer.transform(header);
    const caller = await this.sessions.callerOf(request);
    if (caller === null)
      throw new HttpException(
        { message: 'sign in (/auth/login) or send Authorization: Bearer <ADMIN_TOKEN or owner token>' },
        HttpStatus.UNAUTHORIZED,
      );
    return caller;
  }
}

const RequestOf = createParamDecorator((_: unknown, context: ExecutionContext) => context.switchToHttp().getRequest<CookieRequest>());

/** The route's Caller (401/403 before the handler runs when there is none). */
export const CallerOf = () => RequestOf(RequestCallerPipe);

/** Documents CallerOf: the admin token, an owner token or a session; 401 without one, 403 with an unknown one. */
export const ApiCaller = () =>
  applyDecorators(
    ApiBearerAuth(ADMIN_SCHEME),
    ApiUnauthorizedResponse(errorAnswer('No bearer token and no session, or an expired session')),
    ApiForbiddenResponse(
      errorAnswer('Neither the admin token nor an owner token allowed here, or a session request without its X-CSRF-Token'),
    ),
  );
