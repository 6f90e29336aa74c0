import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { parseCookie, stringifySetCookie, type SerializeOptions } from 'cookie';
import type { Actor } from '#domain';
import { constantTimeEqual, csrfTokenOf, sha256Hex, type Config, type Session, type SessionStore } from '#infra';
import { CONFIG } from '#kernel';
import { SESSIONS } from '../tokens.js';

export const SESSION_COOKIE = 'faasline_session';
/** The sign-in cookie: binds a sign-in's `state` to the browser that started it. */
export const SIGN_IN_COOKIE = 'faasline_sign_in';
export const CSRF_HEADER = 'x-csrf-token';

/** What the authenticator reads of a request: Fastify's and Node's requests both fit. */
export type CookieRequest = Readonly<{ method: string; headers: Readonly<Record<string, string | string[] | undefined>> }>;

/** A session found by its cookie: the id (only ever in the cookie), and who it is for. */
export type OpenSession = Readonly<{ id: string; session: Session; admin: boolean; owners: readonly string[] }>;

/** Who a session speaks for, as a caller: its login and organisations, or everything for an admin. */
export type SessionCaller = Readonly<{ kind: 'user'; login: string | null; owners: readonly string[]; admin: boolean; actor: Actor }>;

const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

/**
 * Sessions from the `faasline_session` cookie. A request that changes something (any method but GET, HEAD and
 * OPTIONS) also needs `X-CSRF-Token`: a cookie rides along on any site's form post, the header only on our pages'
 * own requests. Bearer-token requests never get here: they carry no ambient credential.
 */
@Injectable()
export class SessionAuthenticator {
  constructor(
    @Inject(SESSIONS) private readonly sessions: SessionStore,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** The request's session: null without the cookie; 401 for a cookie that opens no session (expired, closed). */
  async sessionOf(request: CookieRequest): Promise<OpenSession | null> {
    const id = cookiesOf(request)[SESSION_COOKIE];
    if (id === undefined || id === '') return null;
    const session = await this.sessions.find(sha256Hex(id), new Date());
    if (session === null)
      throw new HttpException({ message: 'your session has expired or was closed: sign in again at /auth/login' }, HttpStatus.UNAUTHORIZED);
    // Decided now, not at sign-in, so a login taken off ADMIN_LOGINS stops being admin at once.
    const admin =
      session.kind === 'local' || (session.login !== null && this.config.signIn.adminLogins.includes(session.login.toLowerCase()));
    return { id, session, admin, owners: session.login === null ? [] : [session.login, ...session.orgs] };
  }

  /** 403 unless a state-changing request carries the session's CSRF token. */
  checkCsrf(request: CookieRequest, open: OpenSession): void {
    if (SAFE_METHODS.includes(request.method.toUpperCase())) return;
    const header = request.headers[CSRF_HEADER];
    const sent = Array.isArray(header) ? header[0] : header;
    if (sent === undefined || sent === '')
      throw new HttpException(
        { message: 'X-CSRF-Token is required with a session cookie (GET /api/v1/me gives it)' },
        HttpStatus.FORBIDDEN,
      );
    if (!constantTimeEqual(sent, csrfTokenOf(open.id)))
      throw new HttpException({ message: 'X-CSRF-Token does not belong to this session' }, HttpStatus.FORBIDDEN);
  }

  /** The session's caller (CSRF checked), or null without a session cookie. */
  async callerOf(request: CookieRequest): Promise<SessionCaller | null> {
    const open = await this.sessionOf(request);
    if (open === null) return null;
    this.checkCsrf(request, open);
    const { session, admin, owners } = open;
    return {
      kind: 'user',
      login: session.login,
      owners,
      admin,
      actor: session.login === null ? 'admin:local-session' : `github:${session.login}`,
    };
  }

  /** Set-Cookie attributes: HttpOnly, SameSite=Lax (sent on the redirect back from GitHub), Secure behind https. */
  cookie(name: string, value: string, options: Pick<SerializeOptions, 'maxAge' | 'path'>): string {
    return stringifySetCookie(name, value, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.config.publicUrl.startsWith('https:'),
      path: '/',
      ...options,
    });
  }

  /** A Set-Cookie that makes the browser forget the cookie. */
  clearCookie(name: string, path = '/'): string {
    return this.cookie(name, '', { maxAge: 0, path });
  }
}

export function cookiesOf(request: CookieRequest): Record<string, string | undefined> {
  const header = request.headers.cookie;
  return parseCookie(Array.isArray(header) ? header.join('; ') : (header ?? ''));
}
