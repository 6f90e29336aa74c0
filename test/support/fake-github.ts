import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * GitHub's REST API as far as faasline uses it, with GitHub's shapes and auth rules — only because the real one
 * cannot be reached from here. App JWTs are checked for real (RS256 against the App's public key, `iss`, `iat`,
 * `exp` at most 10 minutes ahead); installation tokens are random and expire in an hour.
 */
export type FakeGitHub = Readonly<{
  url: string;
  /** Installation tokens issued, by installation id. */
  issued: ReadonlyMap<number, readonly string[]>;
  close: () => Promise<void>;
}>;

export type FakeGitHubOptions = Readonly<{ appId: string; appPublicKey: string | KeyObject; installations: readonly number[] }>;

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const publicKey = typeof options.appPublicKey === 'string' ? createPublicKey(options.appPublicKey) : options.appPublicKey;
  const issued = new Map<number, string[]>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => route(request, response));
  });

  function route(request: IncomingMessage, response: ServerResponse): void {
    const match = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(new URL(request.url ?? '/', 'http://x').pathname);
    if (!match || request.method !== 'POST') return send(response, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    const problem = jwtProblem(request.headers.authorization, publicKey, options.appId);
    if (problem) return send(response, 401, { message: problem, documentation_url: 'https://docs.github.com/rest' });
    const installationId = Number(match[1]);
    if (!options.installations.includes(installationId)) return send(response, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app' });
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    issued.set(installationId, [...(issued.get(installationId) ?? []), token]);
    send(response, 201, {
      token,
      expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions: { contents: 'read', statuses: 'write', metadata: 'read' },
      repository_selection: 'all',
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    issued,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function jwtProblem(authorization: string | undefined, publicKey: KeyObject, appId: string): string | null {
  const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return 'A JSON web token could not be decoded';
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return 'A JSON web token could not be decoded';
  const { alg } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string };
  if (alg !== 'RS256') return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
  const valid = createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(publicKey, Buffer.from(signature, 'base64url'));
  if (!valid) return 'A JSON web token could not be decoded';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iss?: string | number; iat?: number; exp?: number };
  const now = Math.floor(Date.now() / 1000);
  if (String(claims.iss) !== appId) return `Integration not found`;
  if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + 600 + 30) return "'Expiration time' claim ('exp') is too far in the future";
  if (typeof claims.iat !== 'number' || claims.iat > now + 30) return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
  return null;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3; format=json' }).end(JSON.stringify(body));
}
