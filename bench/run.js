#!/usr/bin/env node
// `npm run bench [-- filter]`: runs each bench/<name>/index.js whose name contains the filter. Never run by CI.
// Each bench gets its own process so one cannot skew another (pools, global pg type parsers, JIT state),
// while all of them share one Postgres server, started here unless the environment names one.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from './postgres.js';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const benches = readdirSync(here, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name.includes(filter) && existsSync(join(here, entry.name, 'index.js')))
  .map((entry) => entry.name)
  .sort();
if (benches.length === 0) {
  console.error(`no bench matches "${filter}"`);
  process.exit(1);
}

const server = await startPostgres();
console.log(`postgres: ${server.embedded ? 'embedded' : new URL(server.url).host}`);
let failed = 0;
try {
  for (const name of benches) {
    console.log(`\n== ${name}`);
    const child = spawnSync(process.execPath, [join(here, name, 'index.js')], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_PG_URL: server.url },
    });
    if (child.status !== 0) failed++;
  }
} finally {
  await server.stop();
}
process.exit(failed ? 1 : 0);
