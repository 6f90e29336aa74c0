import { createScratchDatabase, type ScratchDatabase } from '../../../../scripts/throwaway-postgres.js';

export type TestDatabase = ScratchDatabase;

/** A fresh database on the test server (see test/global-setup.js); dropped with its connections. */
export async function provisionTestDatabase(): Promise<TestDatabase> {
  const server = process.env.TEST_PG_URL;
  if (!server) throw new Error('TEST_PG_URL is not set: run the suite with npm test');
  return createScratchDatabase(server, 't');
}
