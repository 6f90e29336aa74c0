import { startThrowawayPostgres } from '../scripts/throwaway-postgres.js';

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
  const postgres = await startThrowawayPostgres();
  globalThis.__THROWAWAY_PG__ = postgres;
  process.env.TEST_PG_URL = postgres.url;
}
