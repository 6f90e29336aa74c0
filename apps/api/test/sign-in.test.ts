import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSetCookie } from 'cookie';
import type { Event } from '#domain';
import { BuildLog, BuildLogStore, codeChallengeOf } from '#infra';
import { startFakeGitHubOAuth, type FakeGitHubOAuth } from '../../../test/support/fake-github-oauth.js';
import { answerViolation, type OpenApiDocument } from './support/openapi-check.js';
import { apiAddress, Browser, startLoggedApi, type LoggedApi } from './support/signed-in-api.js';

const CLIENT_ID = 'Iv23liFaaslineTest';
const CLIENT_SECRET = 'client-secret-that-must-stay-put-9f3b';
const ADMIN = 'the-admin-token';
const WEEK_SECONDS = 7 * 24 * 3600;

type Me = {
  login: string | null;
  admin: boolean;
  owners: string[];
  via: string;
  signIn: string;
  csrfToken: string | null;
  expiresAt: string | null;
  note: string | null;
};

const USERS = [
  { login: 'Dev', id: 101, orgs: ['acme', 'widgets'] },
  { login: 'octo-admin', id: 102, orgs: [] },
  // More organisations than one page of /user/orgs holds.
  { login: 'joiner', id: 103, orgs: Array.from({ length: 130 }, (_, i) => `org-${i}`) },
];

let github: FakeGitHubOAuth;
let api: LoggedApi;
let secretDir: string;
let document: OpenApiDocument;

beforeAll(async () => {
  secretDir = mkdtempSync(join(tmpdir(), 'faasline-client-secret-'));
  writeFileSync(join(secretDir, 'client-secret'), `${CLIENT_SECRET}\n`, { mode: 0o600 });
  const address = await apiAddress();
  github = await startFakeGitHubOAuth({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    callbackUrl: `${address.url}/auth/callback`,
    users: USERS,
  });
  api = await startLoggedApi(
    address,
    {
      GITHUB_CLIENT_ID: CLIENT_ID,
      // The _FILE form, as a mounted Kubernetes secret gives it.
      GITHUB_CLIENT_SECRET_FILE: join(secretDir, 'client-secret'),
      // GitHub Enterprise Server's layout: the web at the host, the API under /api/v3.
      GITHUB_URL: github.url,
      GITHUB_API_URL: github.apiUrl,
      ADMIN_LOGINS: 'Octo-Admin',
    },
    ADMIN,
  );
  document = (await (await fetch(`${api.url}/api/docs-json`)).json()) as OpenApiDocument;
});

afterAll(async () => {
  await api?.close();
  await github?.close();
  rmSync(secretDir, { recursive: true, force: true });
});

/** The first two legs: /auth/login sends the browser to GitHub, GitHub (the user approves) back to the callback. */
async function toCallback(browser: Browser, as: string, returnTo = '/functions'): Promise<string> {
  github.signInAs(as);
  const login = await browser.get(`${api.url}/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
  expect(login.status).toBe(302);
  const authorize = await browser.get(login.headers.get('location')!);
  expect(authorize.status).toBe(302);
  return authorize.headers.get('location')!;
}

/** A whole sign-in, redirect by redirect; answers the callback's response. */
async function signIn(browser: Browser, as: string, returnTo = '/functions'): Promise<Response> {
  return browser.get(await toCallback(browser, as, returnTo));
}

async function me(browser: Browser, headers: Record<string, string> = {}): Promise<{ status: number; body: Me & { message?: string } }> {
  const response = await browser.get(`${api.url}/api/v1/me`, headers);
  const body = (await response.json()) as Me & { message?: string };
  const problem = answerViolation(document, 'GET', '/api/v1/me', response.status, body);
  expect(problem).toBeNull();
  return { status: response.status, body };
}

const sessionRows = () => api.backbone.db.query(`SELECT * FROM sessions`) as Promise<Record<string, unknown>[]>;

describe('signing in with GitHub', () => {
  it('follows real redirects: state and an S256 challenge to GitHub, the verifier in the exchange, a session cookie back', async () => {
    const browser = new Browser();
    const login = await browser.get(`${api.url}/auth/login?returnTo=${encodeURIComponent('/functions?owner=acme')}`);
    expect(login.status).toBe(302);
    const authorize = new URL(login.headers.get('location')!);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${github.url}/login/oauth/authorize`);
    const query = authorize.searchParams;
    expect({
      client_id: query.get('client_id'),
      redirect_uri: query.get('redirect_uri'),
      scope: query.get('scope'),
      code_challenge_method: query.get('code_challenge_method'),
    }).toEqual({ client_id: CLIENT_ID, redirect_uri: `${api.url}/auth/callback`, scope: 'read:org', code_challenge_method: 'S256' });
    expect(query.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(query.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The sign-in cookie: HttpOnly, Lax, only for the callback, ten minutes.
    const signInCookie = parseSetCookie(browser.cookies.get('faasline_sign_in')!.raw);
    expect(signInCookie).toMatchObject({ httpOnly: true, sameSite: 'lax', path: '/auth/callback', maxAge: 600 });
    expect(signInCookie.secure).toBeFalsy();

    github.signInAs('Dev');
    const back = await browser.get(authorize.toString());
    const callback = new URL(back.headers.get('location')!);
    expect(callback.searchParams.get('state')).toBe(query.get('state'));
    const done = await browser.get(callback.toString());
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/functions?owner=acme');

    // The exchange carried the verifier whose S256 is the challenge sent to GitHub.
    const exchange = github.tokenRequests.at(-1)!;
    expect(exchange).toMatchObject({ clientId: CLIENT_ID, redirectUri: `${api.url}/auth/callback`, outcome: 'token' });
    expect(codeChallengeOf(exchange.codeVerifier!)).toBe(query.get('code_challenge'));

    const session = browser.cookies.get('faasline_session')!;
    expect(parseSetCookie(session.raw)).toMatchObject({ httpOnly: true, sameSite: 'lax', path: '/', maxAge: WEEK_SECONDS });
    expect(parseSetCookie(session.raw).secure).toBeFalsy();
    expect(session.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(browser.cookies.has('faasline_sign_in')).toBe(false);

    const answer = await me(browser);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      login: 'Dev',
      admin: false,
      owners: ['Dev', 'acme', 'widgets'],
      via: 'session',
      signIn: 'github',
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expiresAt: expect.any(String),
      note: null,
    });
    const ttl = new Date(answer.body.expiresAt!).getTime() - Date.now();
    expect(ttl).toBeGreaterThan((WEEK_SECONDS - 60) * 1000);
    expect(ttl).toBeLessThanOrEqual(WEEK_SECONDS * 1000);
    // Only a hash of the session id is stored, and no GitHub token at all.
    const stored = JSON.stringify(await sessionRows());
    expect(stored).not.toContain(session.value);
    for (const token of github.issuedTokens) expect(stored).not.toContain(token);
  });

  it('reads every page of the organisations', async () => {
    const browser = new Browser();
    expect((await signIn(browser, 'joiner')).status).toBe(302);
    const { body } = await me(browser);
    expect(body.owners).toHaveLength(131);
    expect(body.owners.at(-1)).toBe('org-129');
  });

  it('refuses a forged state, a missing one, and one used already', async () => {
    const browser = new Browser();
    const callback = new URL(await toCallback(browser, 'Dev'));
    const forged = new URL(callback);
    forged.searchParams.set('state', 'A'.repeat(43));
    const refused = await browser.get(forged.toString());
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/state is unknown or was used already/);
    expect(browser.cookies.has('faasline_session')).toBe(false);

    const missing = new URL(callback);
    missing.searchParams.delete('state');
    expect((await browser.get(missing.toString())).status).toBe(400);

    // The real callback still works once (the forged one touched nothing); a second time it is refused.
    const other = new Browser();
    const again = await toCallback(other, 'Dev');
    expect((await other.get(again)).status).toBe(302);
    const second = await other.get(again);
    expect(second.status).toBe(403);
    expect(((await second.json()) as { message: string }).message).toMatch(/unknown or was used already/);
  });

  it('refuses a state from another browser: without the sign-in cookie, or with another sign-in’s', async () => {
    const victim = new Browser();
    const callback = await toCallback(victim, 'Dev');
    const attacker = new Browser();
    const refused = await attacker.get(callback);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/started in another browser/);
    expect(attacker.cookies.has('faasline_session')).toBe(false);

    const victim2 = new Browser();
    const callback2 = await toCallback(victim2, 'Dev');
    const attacker2 = new Browser();
    await attacker2.get(`${api.url}/auth/login`);
    expect(attacker2.cookies.has('faasline_sign_in')).toBe(true);
    expect((await attacker2.get(callback2)).status).toBe(403);
    // The state is spent: not even its own browser can use it now.
    expect((await victim2.get(callback2)).status).toBe(403);
  });

  it('refuses a sign-in GitHub refuses: a verifier that does not match the challenge (the fake checks PKCE)', async () => {
    const browser = new Browser();
    const callback = await toCallback(browser, 'Dev');
    // As if the verifier were not the one whose challenge went to GitHub.
    await api.backbone.db.query(`UPDATE sign_in_attempts SET code_verifier = $1`, ['x'.repeat(43)]);
    const refused = await browser.get(callback);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/^GitHub refused the sign-in \(bad_verification_code/);
    expect(github.tokenRequests.at(-1)).toMatchObject({ codeVerifier: 'x'.repeat(43), outcome: 'bad_verification_code' });
    expect(browser.cookies.has('faasline_session')).toBe(false);
  });

  it('refuses a sign-in the user denied on GitHub', async () => {
    const browser = new Browser();
    github.denyNext();
    const refused = await browser.get(await toCallback(browser, 'Dev'));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/GitHub did not sign you in \(access_denied\)/);
  });

  it('refuses a sign-in older than ten minutes', async () => {
    const browser = new Browser();
    const callback = await toCallback(browser, 'Dev');
    await api.backbone.db.query(`UPDATE sign_in_attempts SET expires_at = now() - interval '1 second'`);
    const refused = await browser.get(callback);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/took more than 10 minutes/);
  });

  it.each(['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)'])(
    'refuses returnTo %j: it goes to this server only',
    async (returnTo) => {
      const response = await fetch(`${api.url}/auth/login?returnTo=${encodeURIComponent(returnTo)}`, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(((await response.json()) as { message: string }).message).toBe('returnTo must be a path on this server, like /functions');
    },
  );
});

describe('a session', () => {
  it('signs out with its CSRF token only; then it opens nothing', async () => {
    const browser = new Browser();
    await signIn(browser, 'Dev');
    const { body } = await me(browser);
    const without = await browser.request('POST', `${api.url}/auth/logout`);
    expect(without.status).toBe(403);
    expect(((await without.json()) as { message: string }).message).toMatch(/X-CSRF-Token is required/);
    const wrong = await browser.request('POST', `${api.url}/auth/logout`, { 'x-csrf-token': 'B'.repeat(43) });
    expect(wrong.status).toBe(403);
    expect((await me(browser)).status).toBe(200);

    const session = browser.cookies.get('faasline_session')!.value;
    const out = await browser.request('POST', `${api.url}/auth/logout`, { 'x-csrf-token': body.csrfToken! });
    expect(out.status).toBe(204);
    expect(parseSetCookie(out.headers.getSetCookie()[0]!)).toMatchObject({ name: 'faasline_session', maxAge: 0, path: '/' });
    expect(browser.cookies.has('faasline_session')).toBe(false);
    // The old cookie, kept by someone, opens nothing either.
    const stale = await fetch(`${api.url}/api/v1/me`, { headers: { cookie: `faasline_session=${session}` } });
    expect(stale.status).toBe(401);
    expect(await stale.json()).toEqual({
      message: 'not signed in: GET /auth/login?returnTo=/ signs in',
      signIn: 'github',
      loginUrl: '/auth/login',
    });
  });

  it('expires: refused and deleted once past its end', async () => {
    const browser = new Browser();
    await signIn(browser, 'Dev');
    expect((await me(browser)).status).toBe(200);
    const before = (await sessionRows()).length;
    await api.backbone.db.query(
      `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE login = 'Dev' AND id_sha256 = encode(sha256($1::bytea), 'hex')`,
      [browser.cookies.get('faasline_session')!.value],
    );
    expect((await me(browser)).status).toBe(401);
    expect((await sessionRows()).length).toBe(before - 1);
  });

  it('is a new one at every sign-in: the browser’s previous session ends (no fixation)', async () => {
    const browser = new Browser();
    await signIn(browser, 'Dev');
    const first = browser.cookies.get('faasline_session')!.value;
    await signIn(browser, 'Dev');
    const second = browser.cookies.get('faasline_session')!.value;
    expect(second).not.toBe(first);
    expect((await fetch(`${api.url}/api/v1/me`, { headers: { cookie: `faasline_session=${first}` } })).status).toBe(401);
    expect((await me(browser)).status).toBe(200);
  });

  it('is admin for a login in ADMIN_LOGINS (any case), not for others', async () => {
    const browser = new Browser();
    await signIn(browser, 'octo-admin');
    expect((await me(browser)).body).toMatchObject({ login: 'octo-admin', admin: true, owners: ['octo-admin'] });
  });

  it('of an admin by ADMIN_LOGINS opens the admin routes, a change only with its CSRF token and in its login’s name; another login’s does not', async () => {
    const admin = new Browser();
    await signIn(admin, 'octo-admin');
    expect((await admin.get(`${api.url}/api/v1/audit`)).status).toBe(200);
    expect((await admin.request('POST', `${api.url}/api/v1/admin/replay`)).status).toBe(403);
    const { csrfToken } = (await me(admin)).body;
    const started = await admin.request('POST', `${api.url}/api/v1/admin/replay`, { 'x-csrf-token': csrfToken! });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    expect(await (await admin.get(`${api.url}/api/v1/admin/replay/${id}`)).json()).toMatchObject({ actor: 'github:octo-admin' });

    const member = new Browser();
    await signIn(member, 'Dev');
    const refused = await member.get(`${api.url}/api/v1/audit`);
    expect([refused.status, ((await refused.json()) as { message: string }).message]).toEqual([
      403,
      'admins only: your login is not in ADMIN_LOGINS',
    ]);
    expect((await new Browser().get(`${api.url}/api/v1/audit`)).status).toBe(401);
  });

  it('is not needed by scripts: the admin token and owner tokens answer /api/v1/me too', async () => {
    const admin = await me(new Browser(), { authorization: `Bearer ${ADMIN}` });
    expect(admin).toEqual({
      status: 200,
      body: { login: 'admin', admin: true, owners: [], via: 'admin-token', signIn: 'github', csrfToken: null, expiresAt: null, note: null },
    });
    expect((await me(new Browser(), { authorization: 'Bearer wrong' })).status).toBe(403);
  });
});

describe('a signed-in member of an organisation', () => {
  const deployed = (owner: string, fn: string): Event =>
    ({
      type: 'FunctionDeployed',
      data: {
        name: `${owner}-${fn}`,
        owner,
        repo: 'fns',
        function: fn,
        branch: 'main',
        sha: 'a'.repeat(40),
        image: `local/${owner}/fns-${fn}:latest-main-aaaaaaa`,
        endpoint: `http://127.0.0.1:8081/function/${owner}-${fn}`,
        deliveryId: randomUUID(),
        buildId: randomUUID(),
        pushSequence: 1,
        ownerId: 1,
        repositoryId: 1,
      },
    }) as unknown as Event;

  beforeAll(async () => {
    for (const [owner, fn] of [
      ['acme', 'fn1'],
      ['acme', 'fn2'],
      ['other', 'fn1'],
    ] as const)
      await api.backbone.store.append(`function-${owner}-${fn}`, 0, [deployed(owner, fn)], {
        correlationId: randomUUID(),
        causationId: randomUUID(),
        actor: 'system:pipeline',
      });
  });

  const remove = (browser: Browser, name: string, headers: Record<string, string> = {}) =>
    browser.request('DELETE', `${api.url}/api/v1/functions/${name}?reason=${encodeURIComponent('cleaning up')}`, headers);

  it('deletes the organisation’s function with the CSRF token, recorded as done by their login; not another owner’s', async () => {
    const browser = new Browser();
    await signIn(browser, 'Dev');
    const { csrfToken } = (await me(browser)).body;

    const noToken = await remove(browser, 'acme-fn1');
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { message: string }).message).toMatch(/X-CSRF-Token/);

    const done = await remove(browser, 'acme-fn1', { 'x-csrf-token': csrfToken! });
    expect(done.status).toBe(202);
    expect(await done.json()).toMatchObject({ name: 'acme-fn1', status: 'removed', actor: 'github:Dev' });
    const [event] = (await api.backbone.db.query(
      `SELECT type, actor FROM events WHERE stream_id = 'function-acme-fn1' AND type = 'FunctionRemoved'`,
    )) as { type: string; actor: string }[];
    expect(event).toEqual({ type: 'FunctionRemoved', actor: 'github:Dev' });

    const refused = await remove(browser, 'other-fn1', { 'x-csrf-token': csrfToken! });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toBe('only an admin or the owner of other-fn1 may change it');
  });

  it('reads the build logs of the organisation’s functions, not another owner’s', async () => {
    for (const owner of ['acme', 'other']) {
      await api.backbone.db.query(
        `INSERT INTO read_builds (id, function_name, owner, repo, sha, status, context_digest, delivery_id, seq)
         VALUES ($1, $2, $3, 'fns', $4, 'succeeded', 'sha256:x', $5, 1)`,
        [`build-${owner}`, `${owner}-fn1`, owner, 'a'.repeat(40), randomUUID()],
      );
      const log = new BuildLog();
      log.push(`log of ${owner}`);
      await new BuildLogStore(api.backbone.db).save(`build-${owner}`, log);
    }
    const browser = new Browser();
    await signIn(browser, 'Dev');
    const own = await browser.get(`${api.url}/api/v1/builds/build-acme/log`);
    expect([own.status, await own.text()]).toEqual([200, expect.stringContaining('log of acme')]);
    expect((await browser.get(`${api.url}/api/v1/builds/build-other/log`)).status).toBe(403);
    expect((await new Browser().get(`${api.url}/api/v1/builds/build-acme/log`)).status).toBe(401);
  });

  it('leaves bearer tokens as they were: no CSRF token, no cookie needed', async () => {
    const response = await new Browser().request('DELETE', `${api.url}/api/v1/functions/acme-fn2`, { authorization: `Bearer ${ADMIN}` });
    expect(response.status).toBe(202);
    expect((await new Browser().request('DELETE', `${api.url}/api/v1/functions/acme-fn2`)).status).toBe(401);
  });

  it('lets an admin by ADMIN_LOGINS manage any owner’s function', async () => {
    const browser = new Browser();
    await signIn(browser, 'octo-admin');
    const { csrfToken } = (await me(browser)).body;
    const done = await remove(browser, 'other-fn1', { 'x-csrf-token': csrfToken! });
    expect(done.status).toBe(202);
    expect(await done.json()).toMatchObject({ actor: 'github:octo-admin' });
  });
});

describe('secrets', () => {
  it('never reach the log, the events or an answer: client secret, GitHub tokens, codes, verifiers, session ids', async () => {
    const browser = new Browser();
    const callback = new URL(await toCallback(browser, 'Dev'));
    await browser.get(callback.toString());
    const { body } = await me(browser);
    const secrets = [
      CLIENT_SECRET,
      browser.cookies.get('faasline_session')!.value,
      callback.searchParams.get('code')!,
      ...github.issuedTokens,
      ...github.tokenRequests.flatMap((request) => (request.codeVerifier ? [request.codeVerifier] : [])),
    ];
    expect(api.lines.some((line) => line.includes('Dev signed in'))).toBe(true);
    const log = api.lines.join('\n');
    const events = JSON.stringify(await api.backbone.db.query(`SELECT * FROM events`));
    for (const secret of secrets) {
      expect(log).not.toContain(secret);
      expect(events).not.toContain(secret);
      expect(JSON.stringify(body)).not.toContain(secret);
    }
  });
});

describe('the fake GitHub, strict where GitHub is', () => {
  /** A code for `challenge`'s verifier, issued to the registered callback. */
  async function codeFor(challenge: string): Promise<string> {
    const authorize = new URL(`${github.url}/login/oauth/authorize`);
    authorize.search = new URLSearchParams({
      client_id: CLIENT_ID,
      redirect_uri: `${api.url}/auth/callback`,
      scope: 'read:org',
      state: 's',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const back = await fetch(authorize, { redirect: 'manual' });
    return new URL(back.headers.get('location')!).searchParams.get('code')!;
  }
  const exchange = async (fields: Record<string, string>) =>
    (await (
      await fetch(`${github.url}/login/oauth/access_token`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      })
    ).json()) as { access_token?: string; error?: string };
  const verifier = 'v'.repeat(43);
  const good = (code: string) => ({
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    code,
    redirect_uri: `${api.url}/auth/callback`,
    code_verifier: verifier,
  });

  it('refuses a wrong secret, another redirect_uri, a missing or wrong verifier, and a code used once already', async () => {
    expect(await exchange({ ...good(await codeFor(codeChallengeOf(verifier))), client_secret: 'nope' })).toMatchObject({
      error: 'incorrect_client_credentials',
    });
    expect(await exchange({ ...good(await codeFor(codeChallengeOf(verifier))), redirect_uri: `${api.url}/elsewhere` })).toMatchObject({
      error: 'redirect_uri_mismatch',
    });
    const { code_verifier: _, ...withoutVerifier } = good(await codeFor(codeChallengeOf(verifier)));
    expect(await exchange(withoutVerifier)).toMatchObject({ error: 'bad_verification_code' });
    expect(await exchange({ ...good(await codeFor(codeChallengeOf(verifier))), code_verifier: 'w'.repeat(43) })).toMatchObject({
      error: 'bad_verification_code',
    });
    const code = await codeFor(codeChallengeOf(verifier));
    expect(await exchange(good(code))).toMatchObject({ access_token: expect.stringMatching(/^gho_/) });
    expect(await exchange(good(code))).toMatchObject({ error: 'bad_verification_code' });
  });

  it('takes S256 challenges only, and answers /user only to an issued token with a User-Agent', async () => {
    const plain = await fetch(
      `${github.url}/login/oauth/authorize?client_id=${CLIENT_ID}&code_challenge=${'c'.repeat(43)}&code_challenge_method=plain`,
      { redirect: 'manual' },
    );
    expect(plain.status).toBe(400);
    expect((await fetch(`${github.apiUrl}/user`, { headers: { 'user-agent': 't' } })).status).toBe(401);
    expect((await fetch(`${github.apiUrl}/user`, { headers: { 'user-agent': 't', authorization: 'Bearer gho_forged' } })).status).toBe(401);
  });

  it('sends a sign-in with a registered callback other than PUBLIC_URL’s back with redirect_uri_mismatch, which the api refuses', async () => {
    const browser = new Browser();
    github.signInAs('Dev');
    const login = await browser.get(`${api.url}/auth/login`);
    const authorize = new URL(login.headers.get('location')!);
    authorize.searchParams.set('redirect_uri', `${api.url}/somewhere-else`);
    const back = await browser.get(authorize.toString());
    const callback = new URL(back.headers.get('location')!);
    expect(callback.searchParams.get('error')).toBe('redirect_uri_mismatch');
    const refused = await browser.get(callback.toString());
    expect(refused.status).toBe(403);
    expect(browser.cookies.has('faasline_session')).toBe(false);
  });
});
