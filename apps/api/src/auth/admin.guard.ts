import { HttpException, HttpStatus, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { constantTimeEqual } from '#infra';
import { ADMIN_TOKEN } from '../tokens.js';

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
 * Admin routes: `Authorization: Bearer <ADMIN_TOKEN>`. 401 without a bearer token, 403 with a wrong one; the
 * token is compared in constant time.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(@Inject(ADMIN_TOKEN) private readonly adminToken: string) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const bearer = bearerOf(request.headers.authorization);
    if (bearer === undefined)
      throw new HttpException({ message: 'Authorization: Bearer <ADMIN_TOKEN> is required' }, HttpStatus.UNAUTHORIZED);
    if (!constantTimeEqual(bearer, this.adminToken)) throw new HttpException({ message: 'wrong admin token' }, HttpStatus.FORBIDDEN);
    return true;
  }
}
