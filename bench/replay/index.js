// Events per second rebuilt into the read models by a replay, against writing the same final rows into the same
// Postgres in the same run with COPY (the floor) and with batched multi-row INSERTs. BENCH_EVENTS events
// (default 1,000,000) of the synthetic history; the replay runs in a child process whose peak RSS is reported.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { readModelsProjection } from '../../dist/libs/projections/read-models.projection.js';
import { openBackbone, silentLogger } from '../../dist/libs/infra/index.js';
import { writeSyntheticHistory } from '../../scripts/synthetic-history.js';
import { freshDatabase, startPostgres } from '../postgres.js';
import { copyInFromFile, copyOutToFile, parseCopyLine } from './copy.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const INSERT_ROWS = 1000;
const TABLES = ['read_functions', 'read_builds', 'read_pushes', 'read_audit'];
const here = dirname(fileURLToPath(import.meta.url));
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const began = Date.now();
const step = (message) => process.stderr.write(`  [${((Date.now() - began) / 1000).toFixed(1)} s] ${message}\n`);
const int = (n) => Math.round(n).toLocaleString('en-US');

async function withClient(url, use) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Per table: row count and the order-independent sum of row hashes (the replay checksum's parts). */
async function tableDigests(client, names) {
  const digests = [];
  for (const name of names) {
    const { rows } = await client.query(
      `SELECT count(*)::text AS n, coalesce(sum(hashtextextended(t::text, 0)), 0)::text AS h FROM ${name} t`,
    );
    digests.push(`${rows[0].n}:${rows[0].h}`);
  }
  return digests;
}

async function catchUp(url) {
  const backbone = await openBackbone({ databaseUrl: url, dataDir: '/nonexistent', kafka: null }, silentLogger);
  try {
    let start = process.hrtime.bigint();
    step(`writing ${int(EVENTS)} events`);
    const head = await writeSyntheticHistory(url, EVENTS);
    step('live projector catching up');
    const writeSeconds = seconds(start);
    start = process.hrtime.bigint();
    const subscription = await backbone.log.subscribe(readModelsProjection.name, readModelsProjection.handle, { batchSize: 5000 });
    for (;;) {
      const [row] = await backbone.db.query(`SELECT position FROM subscription_checkpoints WHERE subscriber = $1`, [
        readModelsProjection.name,
      ]);
      if (Number(row?.position ?? 0) >= head) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const liveSeconds = seconds(start);
    await subscription.close();
    return { head, writeSeconds, liveSeconds };
  } finally {
    await backbone.close();
  }
}

async function replayInChild(url) {
  // BENCH_REPLAY_NODE_FLAGS (e.g. --max-old-space-size=256) go to the replaying process only.
  const flags = (process.env.BENCH_REPLAY_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...flags, join(here, 'replay-child.js'), url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`replay process exited ${code}: ${out}`);
  return JSON.parse(out.trim().split('\n').at(-1));
}

/** Loads the dumped rows into fresh copies of the read-model tables; resolves with the seconds it took. */
async function load(client, dumps, prefix, how) {
  let total = 0;
  for (const { table, path } of dumps) {
    const target = `${prefix}_${table}`;
    await client.query(`DROP TABLE IF EXISTS ${target}`);
    if (how === 'copy, indexes after') {
      await client.query(`CREATE TABLE ${target} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
      const { rows: indexes } = await client.query(
        `SELECT pg_get_indexdef(indexrelid) AS def, indisprimary AS primary FROM pg_index WHERE indrelid = $1::regclass`,
        [table],
      );
      const start = process.hrtime.bigint();
      await copyInFromFile(client, `COPY ${target} FROM STDIN`, path);
      for (const [i, index] of indexes.entries()) {
        await client.query(index.def.replace(/^CREATE (UNIQUE )?INDEX (\S+) ON (\S+) /, `CREATE $1INDEX ${target}_${i} ON ${target} `));
      }
      total += seconds(start);
      continue;
    }
    await client.query(`CREATE TABLE ${target} (LIKE ${table} INCLUDING ALL)`);
    if (how === 'copy') {
      const start = process.hrtime.bigint();
      await copyInFromFile(client, `COPY ${target} FROM STDIN`, path);
      total += seconds(start);
      continue;
    }
    // Batched INSERTs: the rows are parsed before the clock starts; values go as text parameters.
    const rows = readFileSync(path, 'utf8').split('\n').filter(Boolean).map(parseCopyLine);
    if (rows.length === 0) continue;
    const width = rows[0].length;
    const { rows: columns } = await client.query(
      `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [table],
    );
    const start = process.hrtime.bigint();
    for (let i = 0; i < rows.length; i += INSERT_ROWS) {
      const chunk = rows.slice(i, i + INSERT_ROWS);
      const values = chunk.map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`).join(', ');
      await client.query(`INSERT INTO ${target} (${columns.map((c) => c.attname).join(', ')}) VALUES ${values}`, chunk.flat());
    }
    total += seconds(start);
  }
  return total;
}

const server = await startPostgres();
const scratch = mkdtempSync(join(tmpdir(), 'bench-replay-'));
const database = await freshDatabase(server.url);
try {
  const live = await catchUp(database.url);
  const liveDigests = await withClient(database.url, (client) => tableDigests(client, TABLES));
  step('replay in a child process');
  const replay = await replayInChild(database.url);
  step('dumping the replayed rows');

  const result = await withClient(database.url, async (client) => {
    const replayedDigests = await tableDigests(client, TABLES);
    const dumps = [];
    for (const table of TABLES) {
      const path = join(scratch, `${table}.copy`);
      dumps.push({ table, path, rows: await copyOutToFile(client, `COPY (SELECT * FROM ${table}) TO STDOUT`, path) });
    }
    const rows = dumps.reduce((sum, dump) => sum + dump.rows, 0);
    const baselines = [];
    for (const [how, prefix] of [
      ['copy', 'bc'],
      ['copy, indexes after', 'bci'],
      ['insert', 'bi'],
    ]) {
      step(`loading them: ${how}`);
      const took = await load(client, dumps, prefix, how);
      const digests = await tableDigests(
        client,
        TABLES.map((table) => `${prefix}_${table}`),
      );
      baselines.push({ how, seconds: took, same: digests.join() === replayedDigests.join() });
    }
    return { replayedDigests, dumps, rows, baselines };
  });

  const { report } = replay;
  const replayRate = report.eventsProcessed / replay.seconds;
  const copy = result.baselines.find((b) => b.how === 'copy');
  const copyRate = result.rows / copy.seconds;
  console.log(
    `${int(EVENTS)} synthetic events (history written in ${live.writeSeconds.toFixed(1)} s); final rows: ` +
      result.dumps.map((d) => `${d.table} ${int(d.rows)}`).join(', ') +
      ` = ${int(result.rows)}`,
  );
  const header = ['what', 'count', 'seconds', 'per second', '÷ COPY rows/s'];
  const rows = [
    ['live projector catch-up (events)', live.head, live.liveSeconds],
    ['replay (events, whole call)', report.eventsProcessed, replay.seconds],
    ...result.baselines.map((b) => [
      `${b.how === 'insert' ? `INSERT ×${INSERT_ROWS} rows` : b.how === 'copy' ? 'COPY, all indexes' : 'COPY, indexes after'} (rows)`,
      result.rows,
      b.seconds,
    ]),
  ].map(([what, count, secs]) => [what, int(count), secs.toFixed(2), int(count / secs), (count / secs / copyRate).toFixed(2)]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  for (const row of [header, ...rows]) console.log(line(row));
  // Issue 17's goals: replay against loading the same final rows by COPY with the indexes built after, and the live
  // projector's catch-up in events per second.
  const indexesAfter = result.baselines.find((b) => b.how === 'copy, indexes after');
  const ratio = replayRate / (result.rows / indexesAfter.seconds);
  console.log(`replay events/s ÷ COPY-indexes-after rows/s = ${ratio.toFixed(3)} (goal ≥ 0.5: ${ratio >= 0.5 ? 'yes' : 'NO'})`);
  const catchUpRate = live.head / live.liveSeconds;
  console.log(`live projector catch-up: ${int(catchUpRate)} events/s (goal ≥ 30,000: ${catchUpRate >= 30_000 ? 'yes' : 'NO'})`);
  const mb = replay.vmHwmKiB / 1024;
  console.log(
    `replaying process${process.env.BENCH_REPLAY_NODE_FLAGS ? ` (node ${process.env.BENCH_REPLAY_NODE_FLAGS})` : ''}: peak RSS (VmHWM) ${mb.toFixed(0)} MiB, ` +
      `${(replay.rssBeforeKiB / 1024).toFixed(0)} MiB before the replay (goal ≤ 512 MB: ${mb <= 512 ? 'yes' : 'NO'}); ` +
      `sampled peaks MiB: ${Object.entries(replay.peakMiB)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; CPU ${replay.cpuSeconds.toFixed(1)} s of ${replay.seconds.toFixed(1)} s`,
  );
  console.log(`  RSS MiB each second: ${replay.rssMiBEverySecond.join(' ')}`);
  const checksumsEqual = report.checksumBefore === report.checksumAfter;
  console.log(
    `replay ${report.status}: eventsProcessed ${int(report.eventsProcessed)} of ${int(live.head)}; checksumBefore ${report.checksumBefore}, ` +
      `checksumAfter ${report.checksumAfter}: ${checksumsEqual ? 'equal' : 'DIFFERENT'}` +
      (report.error ? `; error: ${report.error}` : ''),
  );
  console.log(
    `rows after the replay ${result.replayedDigests.join() === liveDigests.join() ? 'equal' : 'DIFFER FROM'} the live projector's; ` +
      `baseline tables equal the replayed rows: ${result.baselines.map((b) => `${b.how} ${b.same ? 'yes' : 'NO'}`).join(', ')}`,
  );
  if (replay.errors.length) console.log(`replay logged errors: ${replay.errors.join('; ')}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
  await database.drop();
  await server.stop();
}
