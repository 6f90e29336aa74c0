// The server benches run against: the one named, else the same kind of throwaway server the test suite starts.
import { createScratchDatabase, startThrowawayPostgres } from '../scripts/throwaway-postgres.js';

/** The server named by BENCH_PG_URL or DATABASE_URL, else an embedded one that `stop` removes again. */
export async function startPostgres() {
  const named = process.env.BENCH_PG_URL ?? process.env.DATABASE_URL;
  if (named) return { url: named, embedded: false, stop: async () => {} };
  const throwaway = await startThrowawayPostgres();
  return { url: throwaway.url, embedded: true, stop: throwaway.stop };
}

/** A fresh database on the server at `url`, dropped with `drop`. */
export const freshDatabase = (url) => createScratchDatabase(url, 'bench');
