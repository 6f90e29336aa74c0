import { Controller, Get, Header, HttpCode, HttpException, HttpStatus, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  codeChallengeOf,
  constantTimeEqual,
  randomSecret,
  sha256Hex,
  SignInRefused,
  type Config,
  type Logger,
  type OAuthClient,
  type SessionStore,
} from '#infra';
import { CONFIG, LOGGER } from '#kernel';
import { cookiesOf, SESSION_COOKIE, SessionAuthenticator, SIGN_IN_COOKIE } from '../auth/sessions.js';
import { OAUTH_CLIENT, SESSIONS } from '../tokens.js';
import { isLocalBrowser } from './local-browser.js';
import { localReturnTo } from './return-to.js';

/** How long a sign-in may take between /auth/login and GitHub's redirect back. */
export const SIGN_IN_TTL_MS = 10 * 60_000;
const CALLBACK_PATH = '/auth/callback';

const refuse = (status: HttpStatus, message: string) => new HttpException({ message }, status);

/**
 * Signing in with GitHub: authorization code with `state` and PKCE (S256). The state and the verifier stay on the
 * server (one row, taken out once, ten minutes at most), bound to the browser that started by a random nonce in
 * an HttpOnly cookie: a state cannot be used twice, late, or from another browser, and a code cannot be exchanged
 * without the verifier. OpenFaaS Cloud sent the time as `state` and never checked it.
 */
@ApiExcludeController()
@Controller('auth')
export class SignInController {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(SESSIONS) private readonly sessions: SessionStore,
    @Inject(OAUTH_CLIENT) private readonly oauth: OAuthClient | null,
    @Inject(SessionAuthenticator) private readonly authenticator: SessionAuthenticator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `GET /auth/login?returnTo=/path`: off to GitHub; in local mode, straight to an admin session of this browser. */
  @Get('login')
  @Header('Cache-Control', 'no-store')
  async login(@Query('returnTo') raw: string | undefined, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const returnTo = localReturnTo(raw);
    if (returnTo === null) throw refuse(HttpStatus.BAD_REQUEST, 'returnTo must be a path on this server, like /functions');
    const now = new Date();
    const { mode } = this.config.signIn;
    if (mode === 'off') throw this.notConfigured();
    if (mode === 'local') {
      if (!isLocalBrowser(request))
        throw refuse(
          HttpStatus.FORBIDDEN,
          'sign-in is off (no GITHUB_CLIENT_ID): only a browser on this machine, asking 127.0.0.1 or localhost directly, gets the local admin session',
        );
      const cookie = await this.openSession(now, { kind: 'local', login: null, githubId: null, orgs: [], admin: true });
      this.logger.info('local admin session opened (sign-in is off)');
      return void reply.status(HttpStatus.FOUND).header('location', returnTo).header('set-cookie', cookie).send();
    }
    const state = randomSecret();
    const nonce = randomSecret();
    const codeVerifier = randomSecret();
    await this.sessions.begin(sha256Hex(state), {
      browserSha256: sha256Hex(nonce),
      codeVerifier,
      returnTo,
      expiresAt: new Date(now.getTime() + SIGN_IN_TTL_MS),
    });
    const location = this.oauth!.authorizeUrl({ state, codeChallenge: codeChallengeOf(codeVerifier), redirectUri: this.redirectUri() });
    const cookie = this.authenticator.cookie(SIGN_IN_COOKIE, nonce, { maxAge: SIGN_IN_TTL_MS / 1000, path: CALLBACK_PATH });
    reply.status(HttpStatus.FOUND).header('location', location).header('set-cookie', cookie).send();
  }

  /** `GET /auth/callback?code&state`: GitHub sends the browser back here; a session opens, or the sign-in is refused. */
  @Get('callback')
  @Header('Cache-Control', 'no-store')
  async callback(
    @Query() query: Record<string, string | undefined>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (this.config.signIn.mode !== 'github') throw this.notConfigured();
    const { code, state, error } = query;
    // Whatever happens next, the sign-in cookie has done its work.
    reply.header('set-cookie', this.authenticator.clearCookie(SIGN_IN_COOKIE, CALLBACK_PATH));
    if (typeof state !== 'string' || state === '')
      throw refuse(HttpStatus.BAD_REQUEST, 'state is missing: start signing in at /auth/login');
    const attempt = await this.sessions.take(sha256Hex(state));
    if (attempt === null)
      throw refuse(HttpStatus.FORBIDDEN, 'this sign-in state is unknown or was used already: start again at /auth/login');
    if (attempt.expiresAt.getTime() <= Date.now())
      throw refuse(HttpStatus.FORBIDDEN, 'this sign-in took more than 10 minutes: start again at /auth/login');
    const nonce = cookiesOf(request)[SIGN_IN_COOKIE];
    if (nonce === undefined || !constantTimeEqual(sha256Hex(nonce), attempt.browserSha256))
      throw refuse(HttpStatus.FORBIDDEN, 'this sign-in was started in another browser (or its cookie is gone): start again at /auth/login');
    if (typeof error === 'string')
      throw refuse(HttpStatus.FORBIDDEN, `GitHub did not sign you in (${error.slice(0, 100)}): start again at /auth/login`);
    if (typeof code !== 'string' || code === '') throw refuse(HttpStatus.BAD_REQUEST, 'code is missing: start again at /auth/login');
    const identity = await this.oauth!.identify({ code, codeVerifier: attempt.codeVerifier, redirectUri: this.redirectUri() }).catch(
      (failure: Error) => {
        if (failure instanceof SignInRefused) throw refuse(HttpStatus.FORBIDDEN, `${failure.message}: start again at /auth/login`);
        this.logger.error(`sign-in failed: ${failure.message}`);
        throw refuse(HttpStatus.BAD_GATEWAY, `signing in with GitHub failed: ${failure.message}`);
      },
    );
    // A new session never reuses an id the browser had before (no fixation); the old session, if any, ends here.
    const previous = cookiesOf(request)[SESSION_COOKIE];
    if (previous) await this.sessions.close(sha256Hex(previous));
    const admin = this.config.signIn.adminLogins.includes(identity.login.toLowerCase());
    const cookie = await this.openSession(new Date(), {
      kind: 'github',
      login: identity.login,
      githubId: identity.id,
      orgs: identity.orgs,
      admin,
    });
    this.logger.info(`${identity.login} signed in`, { login: identity.login, orgs: identity.orgs.length, admin });
    reply
      .status(HttpStatus.FOUND)
      .header('location', attempt.returnTo)
      .header('set-cookie', [this.authenticator.clearCookie(SIGN_IN_COOKIE, CALLBACK_PATH), cookie])
      .send();
  }

  /** `POST /auth/logout` (with `X-CSRF-Token`): the session is deleted, the cookie cleared. */
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  async logout(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const open = await this.authenticator.sessionOf(request).catch(() => null);
    if (open !== null) {
      this.authenticator.checkCsrf(request, open);
      await this.sessions.close(sha256Hex(open.id));
    }
    reply.header('set-cookie', this.authenticator.clearCookie(SESSION_COOKIE));
  }

  private async openSession(now: Date, session: Omit<Parameters<SessionStore['open']>[1], 'createdAt' | 'expiresAt'>): Promise<string> {
    const id = randomSecret();
    const { sessionTtlMs } = this.config.signIn;
    await this.sessions.open(sha256Hex(id), { ...session, createdAt: now, expiresAt: new Date(now.getTime() + sessionTtlMs) });
    return this.authenticator.cookie(SESSION_COOKIE, id, { maxAge: Math.floor(sessionTtlMs / 1000) });
  }

  private redirectUri(): string {
    return `${this.config.publicUrl}${CALLBACK_PATH}`;
  }

  private notConfigured(): HttpException {
    return refuse(
      HttpStatus.NOT_FOUND,
      'sign-in is not configured on this server: set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET, or use an API token',
    );
  }
}
