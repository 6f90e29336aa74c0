import {
  createParamDecorator,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Actor } from '#domain';
import { constantTimeEqual } from '#infra';
import { ADMIN_TOKEN } from '../tokens.js';
import { SessionAuthenticator, type CookieRequest } from './sessions.js';

/** A request past AdminGuard: who the admin is, as the events it causes name them. */
type AdminRequest = CookieRequest & { adminActor?: Actor };

/** The bearer token of an `Authorization` header, or undefined when there is none. */
export function bearerOf(authorization: string | string[] | undefined): string | undefined {
  const header = Array.isArray(authorization) ? authorization[0] : authorization;
  return /^Bearer (.+)$/i.exec(header ?? '')?.[1];
}

/** True when the header carries `Bearer <ADMIN_TOKEN>` (compared in constant time). */
export function isAdmin(authorization: string | string[] | undefined, adminToken: string): boolean {
  const bearer = bearerOf(authorization);
  return bearer !== undefined && constantTimeEqual(bearer, adminToken);
}

/**
 * Admin routes: `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time), or the session cookie of an admin
 * (a login in ADMIN_LOGINS, or the local session) with its CSRF token on a change. A bearer token decides alone:
 * 401 without a token or a session, 403 with a wrong token or a session that is not an admin's.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    @Inject(ADMIN_TOKEN) private readonly adminToken: string,
    @Inject(SessionAuthenticator) private readonly sessions: SessionAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AdminRequest>();
    const bearer = bearerOf(request.headers.authorization);
    if (bearer === undefined) {
      const caller = await this.sessions.callerOf(request);
      if (caller === null) throw new HttpException({ message: 'Authorization: Bearer <ADMIN_TOKEN> is required' }, HttpStatus.UNAUTHORIZED);
      if (!caller.admin) throw new HttpException({ message: 'admins only: your login is not in ADMIN_LOGINS' }, HttpStatus.FORBIDDEN);
      request.adminActor = caller.actor;
      return true;
    }
    if (!constantTimeEqual(bearer, this.adminToken)) throw new HttpException({ message: 'wrong admin token' }, HttpStatus.FORBIDDEN);
    request.adminActor = 'admin:admin-token';
    return true;
  }
}

/** The admin AdminGuard let through, as an actor: `admin:admin-token`, `github:<login>` or `admin:local-session`. */
export const AdminActor = createParamDecorator(
  (_: unknown, context: ExecutionContext): Actor => context.switchToHttp().getRequest<AdminRequest>().adminActor ?? 'admin:admin-token',
);
