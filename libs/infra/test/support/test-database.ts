import type { DataSource } from 'typeorm';
import { createScratchDatabase, type ScratchDatabase } from '../../../../scripts/throwaway-postgres.js';

export type TestDatabase = ScratchDatabase;

/** A fresh database on the test server (see test/global-setup.js); dropped with its connections. */
export async function provisionTestDatabase(): Promise<TestDatabase> {
  const server = process.env.TEST_PG_URL;
  if (!server) throw new Error('TEST_PG_URL is not set: run the suite with npm test');
  return createScratchDatabase(server, 't');
}

/** Inserts `rows` into `table` one by one, each with the columns it names: how tests seed the read models directly. */
export async function insertRows(db: DataSource, table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  for (const row of rows) {
    const columns = Object.keys(row);
    await db.query(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
      Object.values(row),
    );
  }
}
