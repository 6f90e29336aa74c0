import { readFileSync } from 'node:fs';
import { ConfigError, type SignInConfig } from '../config/config.js';
import type { OAuthClient, OAuthIdentity } from './oauth-client.port.js';
import { SignInRefused } from './oauth-client.port.js';

export type GitHubOAuthSettings = Readonly<{
  clientId: string;
  clientSecret: string;
  /** GITHUB_URL: where /login/oauth/* lives (https://github.com, or https://HOST for GitHub Enterprise Server). */
  webUrl: string;
  /** GITHUB_API_URL: https://api.github.com, or https://HOST/api/v3. */
  apiUrl: string;
}>;

/** The client secret, inline or from GITHUB_CLIENT_SECRET_FILE (read at start; a file that cannot be read stops it). */
export function clientSecretOf(github: NonNullable<SignInConfig['github']>): string {
  if (github.clientSecret !== null) return github.clientSecret;
  let secret: string;
  try {
    secret = readFileSync(github.clientSecretFile!, 'utf8').trim();
  } catch (error) {
    throw new ConfigError('GITHUB_CLIENT_SECRET_FILE', `cannot read ${github.clientSecretFile}: ${(error as Error).message}`);
  }
  if (secret === '') throw new ConfigError('GITHUB_CLIENT_SECRET_FILE', `${github.clientSecretFile} is empty`);
  return secret;
}

const TIMEOUT_MS = 10_000;
/** A user in more organisations than this is rare; the cap keeps one sign-in from paging forever. */
const MAX_ORG_PAGES = 10;

/**
 * GitHub's web application flow (docs: "Authorizing OAuth apps"; the same for a GitHub App's user tokens). `read:org`
 * lets /user/orgs list private memberships too; a GitHub App ignores scopes and answers what its permissions allow.
 */
export class GitHubOAuthClient implements OAuthClient {
  constructor(private readonly settings: GitHubOAuthSettings) {}

  authorizeUrl({ state, codeChallenge, redirectUri }: Parameters<OAuthClient['authorizeUrl']>[0]): string {
    const url = new URL(`${this.settings.webUrl}/login/oauth/authorize`);
    url.search = new URLSearchParams({
      client_id: this.settings.clientId,
      redirect_uri: redirectUri,
      scope: 'read:org',
      state,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      allow_signup: 'false',
    }).toString();
    return url.toString();
  }

  async identify({ code, codeVerifier, redirectUri }: Parameters<OAuthClient['identify']>[0]): Promise<OAuthIdentity> {
    const token = await this.exchange(code, codeVerifier, redirectUri);
    const user = (await this.get(token, '/user')).body as { login?: unknown; id?: unknown };
    if (typeof user.login !== 'string' || typeof user.id !== 'number') throw new Error('GitHub /user answered without login and id');
    const orgs: string[] = [];
    let next: string | null = `${this.settings.apiUrl}/user/orgs?per_page=100`;
    for (let page = 0; next !== null && page < MAX_ORG_PAGES; page++) {
      const answer = await this.get(token, next);
      if (!Array.isArray(answer.body)) throw new Error('GitHub /user/orgs answered something other than a list');
      orgs.push(...(answer.body as { login?: unknown }[]).flatMap((org) => (typeof org.login === 'string' ? [org.login] : [])));
      next = nextLink(answer.link);
      // The token goes only where GITHUB_API_URL points, whatever a Link header says.
      if (next !== null && !next.startsWith(`${this.settings.apiUrl}/`)) throw new Error('GitHub /user/orgs linked outside GITHUB_API_URL');
    }
    return { login: user.login, id: user.id, orgs };
  }

  private async exchange(code: string, codeVerifier: string, redirectUri: string): Promise<string> {
    const response = await fetch(`${this.settings.webUrl}/login/oauth/access_token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'faasline' },
      body: new URLSearchParams({
        client_id: this.settings.clientId,
        client_secret: this.settings.clientSecret,
        code,
        redirect_uri: redirectUri,
        code_verifier: codeVerifier,
      }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }).catch((error: Error) => {
      throw new Error(`GitHub did not answer the sign-in code exchange: ${error.message}`);
    });
    if (!response.ok) throw new Error(`GitHub answered the sign-in code exchange with HTTP ${response.status}`);
    const body = (await response.json().catch(() => ({}))) as { access_token?: unknown; error?: unknown; error_description?: unknown };
    // GitHub answers a refused exchange 200 with `error` (bad_verification_code, incorrect_client_credentials, ...).
    if (typeof body.error === 'string') {
      const why = typeof body.error_description === 'string' ? `${body.error}: ${body.error_description}` : body.error;
      if (body.error === 'incorrect_client_credentials' || body.error === 'redirect_uri_mismatch')
        throw new Error(`GitHub refused faasline's OAuth settings (${why}): check GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET and PUBLIC_URL`);
      throw new SignInRefused(`GitHub refused the sign-in (${why})`);
    }
    if (typeof body.access_token !== 'string') throw new Error('GitHub answered the sign-in code exchange without a token');
    return body.access_token;
  }

  private async get(token: string, pathOrUrl: string): Promise<{ body: unknown; link: string | null }> {
    const url = pathOrUrl.startsWith('/') ? `${this.settings.apiUrl}${pathOrUrl}` : pathOrUrl;
    const path = new URL(url).pathname;
    const response = await fetch(url, {
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${token}`,
        'x-github-api-version': '2022-11-28',
        'user-agent': 'faasline',
      },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }).catch((error: Error) => {
      throw new Error(`GitHub did not answer GET ${path}: ${error.message}`);
    });
    if (!response.ok) throw new Error(`GitHub answered GET ${path} with HTTP ${response.status}`);
    return { body: await response.json(), link: response.headers.get('link') };
  }
}

/** The `rel="next"` URL of a Link header (GitHub's pagination), or null on the last page. */
function nextLink(link: string | null): string | null {
  return /<([^>]+)>;\s*rel="next"/.exec(link ?? '')?.[1] ?? null;
}
