// The server benches run against: the one named, else the same kind of throwaway server the test suite starts.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startThrowawayPostgres } from '../scripts/throwaway-postgres.js';

/** The server named by BENCH_PG_URL or DATABASE_URL, else an embedded one that `stop` removes again. */
export async function startPostgres() {
  const named = process.env.BENCH_PG_URL ?? process.env.DATABASE_URL;
  if (named) return { url: named, embedded: false, stop: async () => {} };
  const throwaway = await startThrowawayPostgres();
  return { url: throwaway.url, embedded: true, stop: throwaway.stop };
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
