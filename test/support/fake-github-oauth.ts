import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * GitHub's web application flow ("Authorizing OAuth apps") as a GitHub Enterprise Server lays it out — the web at
 * `url`, the REST API at `url/api/v3` — strict where GitHub is: the authorize step checks the client id and the
 * registered callback URL and takes only S256 challenges; a code is single use, ten minutes at most, for the
 * client it was issued to and exchanged with the same redirect_uri and the verifier of its challenge; refusals are
 * answered 200 with `error` as GitHub does. /user and /user/orgs need an issued token (and a User-Agent); without
 * `read:org`, /user/orgs lists public memberships only.
 */
export type FakeGitHubUser = Readonly<{ login: string; id: number; orgs: readonly string[]; publicOrgs?: readonly string[] }>;

export type RecordedTokenRequest = Readonly<{
  clientId: string | null;
  code: string | null;
  redirectUri: string | null;
  codeVerifier: string | null;
  /** What was answered: a token, or GitHub's error code. */
  outcome: string;
}>;

export type FakeGitHubOAuth = Readonly<{
  /** GITHUB_URL */
  url: string;
  /** GITHUB_API_URL */
  apiUrl: string;
  /** Who approves the next authorize request (as if signed in to GitHub in that browser). */
  signInAs: (login: string) => void;
  /** The next authorize request is denied by the user (GitHub's `access_denied`). */
  denyNext: () => void;
  authorizeRequests: readonly URLSearchParams[];
  tokenRequests: readonly RecordedTokenRequest[];
  /** Every access token issued. */
  issuedTokens: readonly string[];
  close: () => Promise<void>;
}>;

export type FakeGitHubOAuthOptions = Readonly<{
  clientId: string;
  clientSecret: string;
  /** The callback URL registered for the App. */
  callbackUrl: string;
  users: readonly FakeGitHubUser[];
}>;

type Grant = {
  clientId: string;
  login: string;
  redirectUri: string;
  challenge: string | null;
  scope: string;
  expiresAt: number;
  used: boolean;
};

const DOCS = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';
const ERRORS: Readonly<Record<string, string>> = {
  incorrect_client_credentials: 'The client_id and/or client_secret passed are incorrect.',
  redirect_uri_mismatch: 'The redirect_uri MUST match the registered callback URL for this application.',
  bad_verification_code: 'The code passed is incorrect or expired.',
};

export async function startFakeGitHubOAuth(options: FakeGitHubOAuthOptions): Promise<FakeGitHubOAuth> {
  let approver = options.users[0]?.login ?? '';
  let deny = false;
  const grants = new Map<string, Grant>();
  const tokens = new Map<string, { login: string; scope: string }>();
  const authorizeRequests: URLSearchParams[] = [];
  const tokenRequests: RecordedTokenRequest[] = [];
  const issuedTokens: string[] = [];
  let url = '';

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => route(request, response, Buffer.concat(chunks).toString()));
  });

  function route(request: IncomingMessage, response: ServerResponse, raw: string): void {
    const target = new URL(request.url ?? '/', 'http://x');
    if (target.pathname === '/login/oauth/authorize' && request.method === 'GET') return authorize(response, target.searchParams);
    if (target.pathname === '/login/oauth/access_token' && request.method === 'POST') return accessToken(request, response, raw);
    if (target.pathname === '/api/v3/user' && request.method === 'GET') return api(request, response, (login) => userJson(login));
    if (target.pathname === '/api/v3/user/orgs' && request.method === 'GET')
      return api(request, response, (login, scope) => orgs(response, target, login, scope));
    send(response, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
  }

  function authorize(response: ServerResponse, query: URLSearchParams): void {
    authorizeRequests.push(query);
    // An unknown client: GitHub shows its 404 page and sends the browser nowhere.
    if (query.get('client_id') !== options.clientId) return page(response, 404, 'Not Found');
    const state = query.get('state');
    const back = (redirect: string, fields: Record<string, string>) => {
      const location = new URL(redirect);
      for (const [key, value] of Object.entries(fields)) location.searchParams.set(key, value);
      if (state !== null) location.searchParams.set('state', state);
      response.writeHead(302, { location: location.toString() }).end();
    };
    const redirectUri = query.get('redirect_uri') ?? options.callbackUrl;
    if (redirectUri !== options.callbackUrl)
      return back(options.callbackUrl, {
        error: 'redirect_uri_mismatch',
        error_description: ERRORS.redirect_uri_mismatch!,
        error_uri: `${DOCS}#redirect-uri-mismatch`,
      });
    const challenge = query.get('code_challenge');
    const method = query.get('code_challenge_method');
    // GitHub accepts S256 only; a challenge is base64url of 32 bytes.
    if (challenge !== null && (method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)))
      return page(response, 400, 'Invalid code_challenge or code_challenge_method (only S256 is supported)');
    if (deny) {
      deny = false;
      return back(redirectUri, {
        error: 'access_denied',
        error_description: 'The user has denied your application access.',
        error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied',
      });
    }
    const code = randomBytes(10).toString('hex');
    grants.set(code, {
      clientId: options.clientId,
      login: approver,
      redirectUri,
      challenge,
      scope: query.get('scope') ?? '',
      expiresAt: Date.now() + 10 * 60_000,
      used: false,
    });
    back(redirectUri, { code });
  }

  function accessToken(request: IncomingMessage, response: ServerResponse, raw: string): void {
    const form = (request.headers['content-type'] ?? '').includes('application/json')
      ? new URLSearchParams(JSON.parse(raw || '{}') as Record<string, string>)
      : new URLSearchParams(raw);
    const field = (name: string) => form.get(name);
    const json = (request.headers.accept ?? '').includes('application/json');
    const answer = (outcome: string, body: Record<string, string>) => {
      tokenRequests.push({
        clientId: field('client_id'),
        code: field('code'),
        redirectUri: field('redirect_uri'),
        codeVerifier: field('code_verifier'),
        outcome,
      });
      // GitHub answers refusals 200 too; without Accept: application/json, form-encoded.
      if (json) return send(response, 200, body);
      response
        .writeHead(200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' })
        .end(new URLSearchParams(body).toString());
    };
    const refuse = (error: string) =>
      answer(error, { error, error_description: ERRORS[error]!, error_uri: `${DOCS}#${error.replaceAll('_', '-')}` });
    if (field('client_id') !== options.clientId || field('client_secret') !== options.clientSecret)
      return refuse('incorrect_client_credentials');
    const grant = grants.get(field('code') ?? '');
    if (!grant || grant.clientId !== options.clientId || grant.used || grant.expiresAt <= Date.now())
      return refuse('bad_verification_code');
    // A code is spent by any exchange that names it, good or bad: it cannot be tried again with another verifier.
    grant.used = true;
    if (field('redirect_uri') !== null && field('redirect_uri') !== grant.redirectUri) return refuse('redirect_uri_mismatch');
    if (grant.challenge !== null) {
      const verifier = field('code_verifier');
      if (verifier === null || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return refuse('bad_verification_code');
      if (createHash('sha256').update(verifier, 'ascii').digest('base64url') !== grant.challenge) return refuse('bad_verification_code');
    }
    const token = `gho_${randomBytes(18).toString('base64url')}`;
    tokens.set(token, { login: grant.login, scope: grant.scope });
    issuedTokens.push(token);
    answer('token', { access_token: token, token_type: 'bearer', scope: grant.scope });
  }

  function api(request: IncomingMessage, response: ServerResponse, answer: (login: string, scope: string) => unknown): void {
    if (!request.headers['user-agent'])
      return send(response, 403, {
        message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header',
      });
    const header = request.headers.authorization;
    if (header === undefined)
      return send(response, 401, { message: 'Requires authentication', documentation_url: 'https://docs.github.com/rest' });
    const token = /^(?:token|Bearer) (.+)$/i.exec(header)?.[1];
    const grant = token === undefined ? undefined : tokens.get(token);
    if (!grant) return send(response, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    const body = answer(grant.login, grant.scope);
    if (body !== undefined) send(response, 200, body);
  }

  const userOf = (login: string) => options.users.find((user) => user.login === login)!;
  const userJson = (login: string) => {
    const user = userOf(login);
    return { login: user.login, id: user.id, node_id: `U_${user.id}`, type: 'User', site_admin: false, html_url: `${url}/${user.login}` };
  };

  function orgs(response: ServerResponse, target: URL, login: string, scope: string): undefined {
    const user = userOf(login);
    const visible = scope.split(/[ ,]/).includes('read:org') ? user.orgs : (user.publicOrgs ?? []);
    const perPage = Math.min(Number(target.searchParams.get('per_page') ?? 30) || 30, 100);
    const page = Math.max(Number(target.searchParams.get('page') ?? 1) || 1, 1);
    const slice = visible.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (page * perPage < visible.length) headers.link = `<${url}/api/v3/user/orgs?per_page=${perPage}&page=${page + 1}>; rel="next"`;
    response.writeHead(200, headers).end(JSON.stringify(slice.map((org, i) => ({ login: org, id: 9000 + i, node_id: `O_${org}` }))));
    return undefined;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    apiUrl: `${url}/api/v3`,
    signInAs: (login) => {
      approver = login;
    },
    denyNext: () => {
      deny = true;
    },
    authorizeRequests,
    tokenRequests,
    issuedTokens,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

function page(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(`<!DOCTYPE html><title>${text}</title><p>${text}</p>`);
}
