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

/** Who calls a route that needs a token: the admin (ADMIN_TOKEN), or an owner through one of its API tokens. */
export type Caller = Readonly<{ kind: 'admin'; actor: 'admin' }> | Readonly<{ kind: 'owner'; owner: string; actor: string }>;

/** Whether the caller may manage what belongs to `owner`: the admin, or that owner (GitHub logins ignore case). */
export function mayManage(caller: Caller, owner: string): boolean {
  return caller.kind === 'admin' || caller.owner.toLowerCase() === owner.toLowerCase();
}

/** The caller as the events it causes name it. */
export function actorOf(caller: Caller): Actor {
  return caller.kind === 'admin' ? 'admin:admin-token' : (caller.actor as Actor);
}

/**
 * `Authorization: Bearer <ADMIN_TOKEN | owner token>`: 401 without a bearer token, 403 for one that is neither
 * the admin token (compared in constant time) nor an unrevoked owner token.
 */
@Injectable()
export class CallerPipe implements PipeTransform<string | undefined, Promise<Caller>> {
  constructor(
    @Inject(ADMIN_TOKEN) private readonly adminToken: string,
    @Inject(OWNER_TOKENS) private readonly ownerTokens: OwnerTokenStore,
  ) {}

  async transform(authorization: string | undefined): Promise<Caller> {
    const bearer = bearerOf(authorization);
    if (bearer === undefined)
      throw new HttpException({ message: 'Authorization: Bearer <ADMIN_TOKEN or owner token> is required' }, HttpStatus.UNAUTHORIZED);
    if (constantTimeEqual(bearer, this.adminToken)) return { kind: 'admin', actor: 'admin' };
    const token = looksLikeOwnerToken(bearer) ? await this.ownerTokens.findActive(ownerTokenHash(bearer)) : null;
    if (token === null) throw new HttpException({ message: 'unknown or revoked token' }, HttpStatus.FORBIDDEN);
    return { kind: 'owner', owner: token.owner, actor: `owner:${token.owner}:${token.id}` };
  }
}

type Request = { headers: Record<string, string | undefined> };
const Authorization = createParamDecorator(
  (_: unknown, context: ExecutionContext) => context.switchToHttp().getRequest<Request>().headers.authorization,
);

/** The route's Caller (401/403 before the handler runs when there is none). */
export const CallerOf = () => Authorization(CallerPipe);

/** Documents CallerOf: the admin token or an owner token, 401 without one, 403 with an unknown one. */
export const ApiCaller = () =>
  applyDecorators(
    ApiBearerAuth(ADMIN_SCHEME),
    ApiUnauthorizedResponse(errorAnswer('No bearer token')),
    ApiForbiddenResponse(errorAnswer('Neither the admin token nor an owner token allowed here')),
  );
