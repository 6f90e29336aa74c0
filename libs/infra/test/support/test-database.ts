import { randomUUID } from 'node:crypto';
import pg from 'pg';

export type TestDatabase = Readonly<{ url: string; drop: () => Promise<void> }>;

/** A fresh database on the test server (see test/global-setup.js); dropped with its connections. */
export async function provisionTestDatabase(): Promise<TestDatabase> {
  const server = process.env.TEST_PG_URL;
  if (!server) throw new Error('TEST_PG_URL is not set: run the suite with npm test');
  const name = `t_${randomUUID().replaceAll('-', '')}`;
  await adminQuery(server, `CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function adminQuery(server: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
