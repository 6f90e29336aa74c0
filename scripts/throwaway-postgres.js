// Plain JS: Jest's global setup, the test support code and the benches load this with Node's own loader.
import { randomBytes, randomUUID } from 'node:crypto';
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

/**
 * A real PostgreSQL in a temporary folder for one test or bench run; `stop` removes it again. Run through
 * faasline's own PostgreSQL runner (built first: scripts/test.js and the benches build before they get here),
 * which as root runs it as the `postgres` user from binaries that user can reach, wherever the clone sits.
 */
export async function startThrowawayPostgres() {
  const { initCluster, postgresBinaries, postgresOsUser, startServer } = await import('../dist/libs/infra/database/postgres-process.js');
  const runAs = await postgresOsUser();
  const binaries = postgresBinaries(runAs);
  const port = await freePort();
  const password = randomBytes(24).toString('base64url');
  // Not mkdtemp: initdb runs as the postgres user and must be able to enter the directory.
  const databaseDir = join(tmpdir(), `epg-${randomUUID()}`);
  await initCluster({ binaries, dataDir: databaseDir, user: 'postgres', password, runAs });
  const server = await startServer({
    binaries,
    dataDir: databaseDir,
    socketDir: databaseDir,
    port,
    runAs,
    flags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'],
  });
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
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
