import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { parseSetCookie } from 'cookie';
import { loadConfig, openBackbone, type Backbone, type Logger } from '#infra';
import { createApi } from '../../src/api-app.js';
import { freePort } from '../../../../test/support/free-port.js';
import { provisionTestDatabase, type TestDatabase } from '../../../../libs/infra/test/support/test-database.js';

export type LoggedApi = Readonly<{
  url: string;
  app: NestFastifyApplication;
  backbone: Backbone;
  /** Every line the api logged, as JSON (message and fields). */
  lines: string[];
  close: () => Promise<void>;
}>;

/** A port for an api, and its URL: the fake GitHub must know the callback before the api starts. */
export async function apiAddress(): Promise<{ port: number; url: string }> {
  const port = await freePort();
  return { port, url: `http://127.0.0.1:${port}` };
}

/** The api in this process on `address`, configured by `env` like `npm start` is, logging through a logger that keeps every line. */
export async function startLoggedApi(
  address: { port: number; url: string },
  env: Record<string, string>,
  adminToken = 'the-admin-token',
): Promise<LoggedApi> {
  const { port, url } = address;
  const database: TestDatabase = await provisionTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'faasline-sign-in-'));
  const lines: string[] = [];
  const keep =
    (level: string) =>
    (message: string, fields?: Readonly<Record<string, unknown>>): void =>
      void lines.push(JSON.stringify({ level, message, ...fields }));
  const logger: Logger = { info: keep('info'), warn: keep('warn'), error: keep('error') };
  const config = loadConfig({ DATABASE_URL: database.url, DATA_DIR: dataDir, PORT: String(port), ...env });
  const backbone = await openBackbone(config, logger);
  const app = await createApi(backbone, config, logger, {
    withProjector: false,
    withPipeline: false,
    webhookSecret: 'whs',
    adminToken,
    gatewayPassword: 'pw',
  });
  await app.listen(port, '127.0.0.1');
  return {
    url,
    app,
    backbone,
    lines,
    close: async () => {
      await app.close();
      await backbone.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A browser as far as signing in needs one: it keeps cookies by name and path (Max-Age=0 forgets one), sends those
 * whose path covers the request, and follows nothing by itself (each redirect is a step the test takes).
 */
export class Browser {
  readonly cookies = new Map<string, { value: string; path: string; raw: string }>();

  async get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request('GET', url, headers);
  }

  async request(method: string, url: string, headers: Record<string, string> = {}, body?: unknown): Promise<Response> {
    const cookie = this.cookieHeader(new URL(url).pathname);
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    for (const raw of response.headers.getSetCookie()) {
      const parsed = parseSetCookie(raw);
      const path = parsed.path ?? '/';
      if (parsed.maxAge === 0 || parsed.value === '') this.cookies.delete(parsed.name);
      else this.cookies.set(parsed.name, { value: parsed.value ?? '', path, raw });
    }
    return response;
  }

  cookieHeader(path: string): string {
    return [...this.cookies.entries()]
      .filter(([, cookie]) => path === cookie.path || path.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`))
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join('; ');
  }
}
