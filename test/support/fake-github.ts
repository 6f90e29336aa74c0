import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * GitHub's REST API as far as faasline uses it, with GitHub's shapes and auth rules — only because the real one
 * cannot be reached from here. App JWTs are checked for real (RS256 against the App's public key, `iss`, `iat`,
 * `exp` at most 10 minutes ahead); installation tokens are random and expire in an hour.
 */
export type RecordedStatus = Readonly<{ owner: string; repo: string; sha: string; state: string; context: string; description: string | null; targetUrl: string | null }>;

export type FakeGitHub = Readonly<{
  url: string;
  /** Installation tokens issued, by installation id. */
  issued: ReadonlyMap<number, readonly string[]>;
  /** Commit statuses accepted, in arrival order. */
  statuses: readonly RecordedStatus[];
  /** The next status requests answer these codes, in order (e.g. 502 to exercise retries). */
  failStatuses: (...codes: number[]) => void;
  close: () => Promise<void>;
}>;

export type FakeGitHubOptions = Readonly<{ appId: string; appPublicKey: string | KeyObject; installations: readonly number[]; tokens?: readonly string[] }>;

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const publicKey = typeof options.appPublicKey === 'string' ? createPublicKey(options.appPublicKey) : options.appPublicKey;
  const issued = new Map<number, string[]>();
  const statuses: RecordedStatus[] = [];
  const failures: number[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => route(request, response, Buffer.concat(chunks).toString()));
  });

  const expiry = new Map<string, number>();
  const validToken = (header: string | undefined) => {
    const token = /^(?:token|Bearer) (.+)$/i.exec(header ?? '')?.[1];
    if (token === undefined) return false;
    if ((options.tokens ?? []).includes(token)) return true;
    return (expiry.get(token) ?? 0) > Date.now();
  };

  function route(request: IncomingMessage, response: ServerResponse, raw: string): void {
    const status = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(new URL(request.url ?? '/', 'http://x').pathname);
    if (status && request.method === 'POST') return createStatus(request, response, raw, status[1]!, status[2]!, status[3]!);
    const match = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(new URL(request.url ?? '/', 'http://x').pathname);
    if (!match || request.method !== 'POST') return send(response, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    const problem = jwtProblem(request.headers.authorization, publicKey, options.appId);
    if (problem) return send(response, 401, { message: problem, documentation_url: 'https://docs.github.com/rest' });
    const installationId = Number(match[1]);
    if (!options.installations.includes(installationId)) return send(response, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app' });
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    issued.set(installationId, [...(issued.get(installationId) ?? []), token]);
    expiry.set(token, Date.now() + 3600_000);
    send(response, 201, {
      token,
      expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions: { contents: 'read', statuses: 'write', metadata: 'read' },
      repository_selection: 'all',
    });
  }

  function createStatus(request: IncomingMessage, response: ServerResponse, raw: string, owner: string, repo: string, sha: string): void {
    if (!validToken(request.headers.authorization)) return send(response, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    const injected = failures.shift();
    if (injected !== undefined) return send(response, injected, { message: 'Server Error' });
    let body: { state?: unknown; description?: unknown; context?: unknown; target_url?: unknown };
    try {
      body = JSON.parse(raw);
    } catch {
      return send(response, 400, { message: 'Problems parsing JSON' });
    }
    if (!['error', 'failure', 'pending', 'success'].includes(body.state as string)) {
      return send(response, 422, { message: 'Validation Failed', errors: [{ resource: 'Status', code: 'custom', field: 'state', message: 'state is not included in the list' }] });
    }
    if (typeof body.description === 'string' && body.description.length > 140) {
      return send(response, 422, { message: 'Validation Failed', errors: [{ resource: 'Status', code: 'custom', field: 'description', message: 'description is too long (maximum is 140 characters)' }] });
    }
    const recorded: RecordedStatus = {
      owner,
      repo,
      sha,
      state: body.state as string,
      context: typeof body.context === 'string' ? body.context : 'default',
      description: typeof body.description === 'string' ? body.description : null,
      targetUrl: typeof body.target_url === 'string' ? body.target_url : null,
    };
    statuses.push(recorded);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    send(response, 201, { url: `https://api.github.com/repos/${owner}/${repo}/statuses/${sha}`, id: statuses.length, state: recorded.state, description: recorded.description, target_url: recorded.targetUrl, context: recorded.context, created_at: now, updated_at: now });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    issued,
    statuses,
    failStatuses: (...codes) => void failures.push(...codes),
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
