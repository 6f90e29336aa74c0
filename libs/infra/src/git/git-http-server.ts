import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constantTimeEqual } from '../security/local-secret.js';

export type GitHttpServer = Readonly<{ url: string; close: () => Promise<void> }>;

export type GitHttpServerOptions = Readonly<{
  /** Maps a repository path of the URL (`owner/repo.git`) to its git directory, or null for 404. */
  resolve: (repositoryPath: string) => string | null;
  host?: string;
  port?: number;
  /** When set, requests must carry this token as HTTP basic auth password (GitHub's `x-access-token`). */
  token?: string;
  /** Awaited before a pack is served: tests hold a fetch half-way with it. */
  beforeUploadPack?: () => Promise<void>;
}>;

const ROUTE = /^\/(.+?\.git)(\/(?:info\/refs|git-upload-pack|HEAD|objects\/.*))$/;

/**
 * Read-only git smart HTTP on loopback through git's own `http-backend`, the same protocol GitHub speaks:
 * used by `faasline push` and by the tests that push real repositories. Pushing to it is refused.
 */
export async function serveGitRepositories(options: GitHttpServerOptions): Promise<GitHttpServer> {
  const server: Server = createServer((request, response) => void handle(options, request, response));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(options: GitHttpServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://git');
  const match = ROUTE.exec(url.pathname);
  const gitDir = match ? options.resolve(decodeURIComponent(match[1]!)) : null;
  if (!match || !gitDir) return end(response, 404, 'repository not found');
  if (url.searchParams.get('service') === 'git-receive-pack' || match[2] === '/git-receive-pack') return end(response, 403, 'read-only');
  if (options.token !== undefined && !authorised(request.headers.authorization, options.token)) {
    response.setHeader('WWW-Authenticate', 'Basic realm="git"');
    return end(response, 401, 'authentication required');
  }
  if (match[2] === '/git-upload-pack') await options.beforeUploadPack?.();
  const backend = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: '/',
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: `${gitDir}${match[2]}`,
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: request.method ?? 'GET',
      CONTENT_TYPE: request.headers['content-type'] ?? '',
      GIT_PROTOCOL: String(request.headers['git-protocol'] ?? ''),
      HTTP_CONTENT_ENCODING: String(request.headers['content-encoding'] ?? ''),
      REMOTE_ADDR: request.socket.remoteAddress ?? '127.0.0.1',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  request.pipe(backend.stdin);
  backend.stdin.on('error', () => undefined);
  let head = Buffer.alloc(0);
  let headersSent = false;
  backend.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) return void response.write(chunk);
    head = Buffer.concat([head, chunk]);
    const split = head.indexOf('\r\n\r\n');
    if (split < 0) return;
    headersSent = true;
    let status = 200;
    for (const line of head.subarray(0, split).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else response.setHeader(name, value);
    }
    response.writeHead(status);
    response.write(head.subarray(split + 4));
  });
  backend.on('close', () => (headersSent ? response.end() : end(response, 500, 'git http-backend failed')));
}

function authorised(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Basic ')) return false;
  const [, password = ''] = Buffer.from(header.slice(6), 'base64').toString().split(':');
  return constantTimeEqual(password, token);
}

function end(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'text/plain' }).end(`${message}\n`);
}
