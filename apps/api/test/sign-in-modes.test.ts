import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import { parseSetCookie } from 'cookie';
import { apiAddress, Browser, startLoggedApi, type LoggedApi } from './support/signed-in-api.js';

/** A GET with headers fetch will not send as given (Host). */
const rawGet = (url: string, headers: Record<string, string>) =>
  new Promise<{ status: number; body: string; setCookie: string[] }>((resolve, reject) => {
    const request = httpRequest(url, { headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, setCookie: response.headers['set-cookie'] ?? [] }));
    });
    request.on('error', reject);
    request.end();
  });

describe('without OAuth settings on a loopback-only install (the embedded defaults)', () => {
  let api: LoggedApi;
  beforeAll(async () => {
    api = await startLoggedApi(await apiAddress(), {});
  });
  afterAll(async () => {
    await api?.close();
  });

  it('gives the browser on this machine an admin session without signing in, and says so', async () => {
    const browser = new Browser();
    const login = await browser.get(`${api.url}/auth/login?returnTo=/functions`);
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toBe('/functions');
    expect(parseSetCookie(browser.cookies.get('faasline_session')!.raw)).toMatchObject({ httpOnly: true, sameSite: 'lax', path: '/' });
    const me = await browser.get(`${api.url}/api/v1/me`);
    expect(await me.json()).toEqual({
      login: null,
      admin: true,
      owners: [],
      via: 'session',
      signIn: 'local',
      csrfToken: expect.any(String),
      expiresAt: expect.any(String),
      note: expect.stringMatching(/^Sign-in is off .* this browser on this machine acts as the admin\.$/),
    });
    // It never hands out the admin token itself.
    expect(JSON.stringify(api.lines)).not.toContain('the-admin-token');
  });

  it('asks /auth/login when not signed in', async () => {
    const answer = await fetch(`${api.url}/api/v1/me`);
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ signIn: 'local', loginUrl: '/auth/login' });
  });

  it.each([
    ['a page that rebinds its name to 127.0.0.1 (Host is its own)', { host: 'evil.example' }],
    ['a reverse proxy in front (X-Forwarded-For)', { 'x-forwarded-for': '203.0.113.9' }],
    ['a reverse proxy in front (Forwarded)', { forwarded: 'for=203.0.113.9' }],
  ])('refuses %s', async (_, headers) => {
    const answer = await rawGet(`${api.url}/auth/login`, headers);
    expect(answer.status).toBe(403);
    expect(answer.setCookie).toEqual([]);
    expect((JSON.parse(answer.body) as { message: string }).message).toMatch(/only a browser on this machine/);
  });

  it('has no GitHub callback', async () => {
    expect((await fetch(`${api.url}/auth/callback?code=x&state=y`)).status).toBe(404);
  });
});

describe('without OAuth settings on a server reachable from elsewhere', () => {
  let api: LoggedApi;
  beforeAll(async () => {
    api = await startLoggedApi(await apiAddress(), { PUBLIC_URL: 'https://faas.example.com' });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('opens no session at all: tokens only', async () => {
    const login = await fetch(`${api.url}/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(404);
    expect(login.headers.getSetCookie()).toEqual([]);
    expect(((await login.json()) as { message: string }).message).toMatch(/set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET/);
    const me = await fetch(`${api.url}/api/v1/me`);
    expect(me.status).toBe(401);
    expect(await me.json()).toMatchObject({ signIn: 'off', loginUrl: null });
  });
});

describe('signing in behind https', () => {
  let api: LoggedApi;
  beforeAll(async () => {
    api = await startLoggedApi(await apiAddress(), {
      PUBLIC_URL: 'https://faas.example.com',
      GITHUB_CLIENT_ID: 'Iv23liHttps',
      GITHUB_CLIENT_SECRET: 'https-client-secret',
      GITHUB_URL: 'https://ghe.example.com',
      GITHUB_API_URL: 'https://ghe.example.com/api/v3',
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('marks its cookies Secure and sends GitHub Enterprise the public callback', async () => {
    const browser = new Browser();
    const login = await browser.get(`${api.url}/auth/login`);
    const location = new URL(login.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe('https://ghe.example.com/login/oauth/authorize');
    expect(location.searchParams.get('redirect_uri')).toBe('https://faas.example.com/auth/callback');
    expect(parseSetCookie(browser.cookies.get('faasline_sign_in')!.raw)).toMatchObject({ secure: true, httpOnly: true, sameSite: 'lax' });
  });
});
