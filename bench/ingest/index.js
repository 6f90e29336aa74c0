// Signed push deliveries accepted and durably recorded per second: the api against two bare Node baselines
// measured in the same run — signature only (the ceiling) and one INSERT per request (the naive durable design).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freshDatabase, startPostgres } from '../postgres.js';
import { SECRET } from './payload.js';

const here = new URL('.', import.meta.url).pathname;
const root = join(here, '../..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;

function serve(args, env = {}) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const read = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match) resolve({ url: match[1], stop: () => new Promise((done) => (child.once('exit', done), child.kill('SIGTERM'))) });
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => reject(new Error(`server exited ${code}:\n${output}`)));
  });
}

/** `firstPush` numbers the run's pushes apart from the warm-up's: a push GitHub delivered twice is recorded once. */
function load(url, seconds, firstPush) {
  const args = [join(here, 'load.js'), url, String(seconds), String(CONNECTIONS), String(firstPush)];
  const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').at(-1));
}

async function measure(name, start) {
  const server = await start();
  try {
    const warmUp = load(server.url, 2, 0); // JIT, pools, first pages of the tables
    const result = { ...load(server.url, SECONDS, 100_000_000), answeredOk: 0 };
    result.answeredOk = warmUp.ok + result.ok;
    console.log(
      `${name.padEnd(34)} ${String(Math.round(result.rps)).padStart(6)} deliveries/s   p50 ${result.p50} ms  p99 ${result.p99} ms   non-2xx ${result.non2xx}  errors ${result.errors}`,
    );
    return { ...result, server };
  } finally {
    await server.stop();
  }
}

const pgServer = await startPostgres();
const dataDir = mkdtempSync(join(tmpdir(), 'faasline-bench-ingest-'));
const databases = [];
const fresh = async () => {
  const db = await freshDatabase(pgServer.url);
  databases.push(db);
  return db.url;
};
try {
  console.log(`load: autocannon, ${CONNECTIONS} connections, ${SECONDS} s, one ~8 KB signed push per request, unique delivery ids`);
  const ceiling = await measure('baseline: verify only (ceiling)', () => serve([join(here, 'baseline-server.js'), 'verify']));
  const naiveDb = await fresh();
  const naive = await measure('baseline: one INSERT per request', () => serve([join(here, 'baseline-server.js'), 'insert', naiveDb]));
  const api = async (name, pipeline) => {
    const url = await fresh();
    const env = {
      PORT: '0',
      DATABASE_URL: url,
      DATA_DIR: dataDir,
      GITHUB_WEBHOOK_SECRET: SECRET,
      KAFKA_BROKERS: '',
      CUSTOMERS: '',
      GIT_ALLOWED_HOSTS: '127.0.0.1:1',
      FAASLINE_PIPELINE: pipeline,
    };
    const result = await measure(name, () => serve([join(root, 'dist/apps/api/main.js')], env));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const [{ n }] = (await client.query(`SELECT count(*)::int AS n FROM events WHERE type IN ('PushReceived', 'PushIgnored')`)).rows;
    await client.end();
    // A push is recorded as received, or as ignored where the machine has no sandbox and CUSTOMERS is unset.
    // 202 is sent only after the commit, so every 2xx answer (warm-up included) must have its stored event; a few
    // more may be stored, answered after the load generator stopped listening (at most one per connection and run).
    const verdict = n >= result.answeredOk && n - result.answeredOk <= 2 * CONNECTIONS ? 'ok' : 'LOST DELIVERIES';
    console.log(`${''.padEnd(34)} 2xx answers ${result.answeredOk}, pushes recorded ${n}: ${verdict}`);
    return result;
  };
  const ingress = await api('faasline api, ingress node', 'separate');
  const allInOne = await api('faasline api, pipeline in-process', '');
  for (const [name, ours] of [
    ['ingress node', ingress],
    ['pipeline in-process', allInOne],
  ]) {
    console.log(
      `${name}: ${(ours.rps / naive.rps).toFixed(2)}x naive durable (goal >= 1.5: ${ours.rps >= 1.5 * naive.rps ? 'yes' : 'NO'}), ` +
        `${(ours.rps / ceiling.rps).toFixed(2)}x ceiling (goal >= 0.3: ${ours.rps >= 0.3 * ceiling.rps ? 'yes' : 'NO'})`,
    );
  }
} finally {
  for (const db of databases) await db.drop().catch(() => undefined);
  await pgServer.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
