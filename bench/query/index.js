// p50/p99 of `GET /api/v1/functions/{name}/builds` with 1,000,000 builds stored (BENCH_BUILDS overrides): the
// built api process against a scratch database filled in SQL, driven by sequential fetches (latency) and by
// autocannon (latency under concurrency). Also checks that paging through a function returns exactly its builds.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { URLSearchParams } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { functionBuildsSql, openBackbone, silentLogger } from '../../dist/libs/infra/index.js';
import { freshDatabase, startPostgres } from '../postgres.js';

const BUILDS = Number(process.env.BENCH_BUILDS ?? 1_000_000);
// Half the builds belong to HOT functions (a busy monorepo), half are spread over COLD functions.
const HOT = 10;
const COLD = 2000;
const SEQUENTIAL = 2000;
const WARMUP = 200;
const CONNECTIONS = 10;
const DURATION = 10;
const perHot = BUILDS / 2 / HOT;
const perCold = BUILDS / 2 / COLD;
const hotName = (k) => `hot${k}-api`;
const coldName = (c) => `owner${c % 100}-svc${c}`;
const began = Date.now();
const step = (message) => process.stderr.write(`  [${((Date.now() - began) / 1000).toFixed(1)} s] ${message}\n`);
const int = (n) => Math.round(n).toLocaleString('en-US');

/**
 * Build i (1..BUILDS) at global position 15·i: even i go round the hot functions, odd i round the cold ones, so
 * every function's builds are spread over the whole history (and over the whole heap) like real ones.
 */
async function fill(client) {
  const fn = `CASE WHEN i % 2 = 0 THEN 'hot' || ((i / 2) % ${HOT}) || '-api' ELSE 'owner' || ((i / 2) % ${COLD} % 100) || '-svc' || ((i / 2) % ${COLD}) END`;
  const owner = `CASE WHEN i % 2 = 0 THEN 'hot' || ((i / 2) % ${HOT}) ELSE 'owner' || ((i / 2) % ${COLD} % 100) END`;
  await client.query(`
    INSERT INTO read_builds (id, function_name, owner, repo, sha, status, image, context_digest, started_at, finished_at, duration_ms,
                             log_ref, reason, delivery_id, reused_build_id, superseded_by, builder, image_digest, seq)
    SELECT md5('build' || i)::uuid::text, fn, owner, 'repo' || (i % 7), sha,
           status, CASE WHEN status = 'failed' THEN NULL ELSE 'local/' || owner || '/' || fn || ':latest-main-' || left(sha, 7) END,
           'sha256:' || md5('ctx' || (i / 10)) || md5('ctx2' || (i / 10)),
           CASE WHEN status = 'reused' THEN NULL ELSE timestamptz '2026-01-01 00:00:00Z' + i * interval '10 seconds' END,
           timestamptz '2026-01-01 00:00:00Z' + i * interval '10 seconds' + (1000 + i % 100) * interval '1 millisecond',
           CASE WHEN status = 'reused' THEN NULL ELSE 1000 + i % 100 END,
           CASE WHEN status = 'reused' THEN NULL ELSE md5('build' || i)::uuid::text END,
           CASE WHEN status = 'failed' THEN 'npm install exited 1' END,
           md5('delivery' || (i / 3))::uuid::text,
           CASE WHEN status = 'reused' THEN md5('build' || greatest(i - 2, 1))::uuid::text END,
           CASE WHEN status = 'superseded' THEN md5('sha' || (i + 1)) || left(md5('sha2' || (i + 1)), 8) END,
           CASE WHEN status = 'reused' THEN NULL ELSE 'local' END, NULL, 15 * i
      FROM (SELECT i, ${fn} AS fn, ${owner} AS owner, md5('sha' || i) || left(md5('sha2' || i), 8) AS sha,
                   CASE WHEN i % 31 = 5 THEN 'failed' WHEN i % 7 = 3 THEN 'reused' WHEN i % 97 = 1 THEN 'superseded' ELSE 'succeeded' END AS status
              FROM generate_series(1, ${BUILDS}) i) g`);
  await client.query(`
    INSERT INTO read_functions (name, owner, repo, function, image, sha, branch, status, endpoint, deployed_at, build_id, status_build_id,
                                delivery_id, deploy_event_id, reason, updated_position)
    SELECT DISTINCT ON (function_name) function_name, owner, repo, regexp_replace(function_name, '^[^-]+-', ''), image, sha, 'main', 'ready',
           'http://127.0.0.1:8081/function/' || function_name, finished_at, id, id, delivery_id, md5('deploy' || id)::uuid::text, NULL, seq + 3
      FROM read_builds WHERE status IN ('succeeded', 'reused') ORDER BY function_name, seq DESC`);
  // Every build's push, public: anonymous callers see the builds of public repositories' pushes only.
  await client.query(`
    INSERT INTO read_pushes (delivery_id, owner, repo, sha, ref, branch, received_at, outcome, reason, seq, private)
    SELECT DISTINCT ON (delivery_id) delivery_id, owner, repo, sha, 'refs/heads/main', 'main', started_at, 'deployed', NULL, seq, false
      FROM read_builds ORDER BY delivery_id, seq`);
  await client.query('VACUUM ANALYZE read_pushes');
  await client.query('VACUUM ANALYZE read_builds');
  await client.query('VACUUM ANALYZE read_functions');
}

async function startApi(databaseUrl, dataDir) {
  const env = { ...process.env };
  delete env.KAFKA_BROKERS;
  // BENCH_API_NODE_FLAGS (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof) go to the api process only.
  const flags = (process.env.BENCH_API_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...flags, 'dist/apps/api/main.js'], {
    env: {
      ...env,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      DATA_DIR: dataDir,
      OPENFAAS_URL: 'http://127.0.0.1:9',
      FAASLINE_PIPELINE: 'separate',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // BENCH_API_OUTPUT=<file>: the api's own output (e.g. with --trace-gc) goes there too.
  if (process.env.BENCH_API_OUTPUT) {
    const file = createWriteStream(process.env.BENCH_API_OUTPUT);
    child.stdout.pipe(file);
    child.stderr.pipe(file);
  }
  const url = await new Promise((resolve, reject) => {
    const seen = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('exit', (code) => reject(new Error(`api exited ${code} before listening:\n${output}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(10_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

async function getPage(base, name, params = {}) {
  const query = new URLSearchParams(params).toString();
  const response = await fetch(`${base}/api/v1/functions/${name}/builds${query ? `?${query}` : ''}`);
  const body = await response.json();
  if (response.status !== 200) throw new Error(`${name} ${query}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Every page of `name`: the ids in the order served, and whether the last page said so. */
async function walk(base, name, limit, maxPages = Infinity) {
  const ids = [];
  const cursors = [];
  let cursor;
  for (let page = 0; page < maxPages; page++) {
    const body = await getPage(base, name, { limit, ...(cursor ? { cursor } : {}) });
    ids.push(...body.items.map((item) => item.id));
    if (body.items.some((item) => item.name !== name)) throw new Error(`${name}: a page holds another function's build`);
    if (!body.nextCursor) return { ids, cursors, ended: true };
    cursor = body.nextCursor;
    cursors.push(cursor);
  }
  return { ids, cursors, ended: false };
}

async function fetchOk(base, path) {
  const response = await fetch(base + path);
  const body = await response.arrayBuffer();
  if (response.status !== 200 || body.byteLength < 2) throw new Error(`${path}: ${response.status}`);
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** SEQUENTIAL requests one after another, after WARMUP; client-side latency in ms. */
async function sequential(base, paths, request = fetchOk) {
  const times = [];
  for (let i = 0; i < WARMUP + SEQUENTIAL; i++) {
    const start = process.hrtime.bigint();
    await request(base, paths[i % paths.length]);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i >= WARMUP) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), max: times.at(-1), bytes: 0 };
}

/** The handler's query (as TypeORM's query builder writes it) for a first page of `limit`, straight over pg. */
// The handler's own query, as an anonymous caller gets it (public pushes only).
const handlerSql = functionBuildsSql('public', false);

async function loaded(base, paths) {
  let next = 0;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] }) }],
  });
  if (result.non2xx || result.errors) throw new Error(`autocannon: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average };
}

/** The SQL the handler runs for an anonymous caller, explained on the server. */
async function explain(client, name, limit, before) {
  const params = before ? [name, limit + 1, before[0], before[1]] : [name, limit + 1];
  const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${functionBuildsSql('public', before !== null)}`, params);
  return rows.map((row) => row['QUERY PLAN']);
}

const server = await startPostgres();
const database = await freshDatabase(server.url);
const dataDir = mkdtempSync(join(tmpdir(), 'bench-query-'));
let api;
try {
  const backbone = await openBackbone({ databaseUrl: database.url, dataDir: '/nonexistent', kafka: null }, silentLogger);
  await backbone.close();
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    step(`filling read_builds with ${int(BUILDS)} builds`);
    let start = Date.now();
    await fill(client);
    const [{ builds, functions, size }] = (
      await client.query(`SELECT (SELECT count(*) FROM read_builds)::int AS builds, (SELECT count(*) FROM read_functions)::int AS functions,
                                 pg_size_pretty(pg_total_relation_size('read_builds')) AS size`)
    ).rows;
    step(
      `filled in ${((Date.now() - start) / 1000).toFixed(1)} s: ${int(builds)} builds (${size} with indexes), ${int(functions)} functions`,
    );

    api = await startApi(database.url, dataDir);
    step(`api at ${api.url}`);

    // Correctness first: paging serves exactly a function's builds, newest first, and ends on the last page.
    const expected = async (name) =>
      (await client.query(`SELECT id FROM read_builds WHERE function_name = $1 ORDER BY seq DESC`, [name])).rows.map((r) => r.id);
    const checks = [];
    for (const [name, limit] of [
      [hotName(0), 500],
      [coldName(7), 50],
      [coldName(8), 7],
    ]) {
      const served = await walk(api.url, name, limit);
      const want = await expected(name);
      const same = served.ended && served.ids.length === want.length && served.ids.every((id, i) => id === want[i]);
      checks.push(
        `${name} limit ${limit}: ${int(served.ids.length)} of ${int(want.length)} in order, ${served.ended ? 'ended' : 'NOT ENDED'} → ${same ? 'ok' : 'WRONG'}`,
      );
    }
    const unknown = await getPage(api.url, 'nobody-nothing');
    checks.push(`unknown function: ${JSON.stringify(unknown)}`);

    // Deep cursors: ~80% into each hot function's history.
    const depth = Math.floor((perHot * 0.8) / 500);
    const deepCursors = [];
    for (let k = 0; k < HOT; k++) deepCursors.push((await walk(api.url, hotName(k), 500, depth)).cursors.at(-1));
    const hot = Array.from({ length: HOT }, (_, k) => hotName(k));
    const cold = Array.from({ length: COLD }, (_, c) => coldName(c));
    const path = (name, params = {}) => {
      const query = new URLSearchParams(params).toString();
      return `/api/v1/functions/${name}/builds${query ? `?${query}` : ''}`;
    };
    const scenarios = [
      { name: `first page, hot (${int(perHot)} builds each)`, paths: hot.map((n) => path(n)) },
      { name: `first page, cold (${int(perCold)} builds each)`, paths: cold.map((n) => path(n)) },
      { name: `deep page (cursor ${int(depth * 500)} builds in), hot`, paths: hot.map((n, k) => path(n, { cursor: deepCursors[k] })) },
      { name: 'limit=500 first page, hot', paths: hot.map((n) => path(n, { limit: 500 })) },
      { name: 'limit=500 deep page, hot', paths: hot.map((n, k) => path(n, { limit: 500, cursor: deepCursors[k] })) },
    ];
    const results = [];
    // What the machine and the framework cost without the route: the same client against /healthz, and the
    // handler's SQL without the api (pg client in this process, same connection each time).
    for (const [label, limit] of [
      ["the handler's SQL alone (pg), first page, hot", 50],
      ["the handler's SQL alone (pg), limit=500, hot", 500],
    ]) {
      step(`sequential: ${label}`);
      const seq = await sequential(null, hot, (_, name) => client.query(handlerSql, [name, limit + 1]));
      results.push({ scenario: { name: label, baseline: true }, seq, load: null });
    }
    step('sequential + autocannon: GET /healthz');
    results.push({
      scenario: { name: 'GET /healthz (no route, no database)', baseline: true },
      seq: await sequential(api.url, ['/healthz']),
      load: await loaded(api.url, ['/healthz']),
    });
    for (const scenario of scenarios) {
      step(`sequential: ${scenario.name}`);
      const seq = await sequential(api.url, scenario.paths);
      step(`autocannon: ${scenario.name}`);
      const load = await loaded(api.url, scenario.paths);
      results.push({ scenario, seq, load });
    }

    const header = [
      'GET /api/v1/functions/{name}/builds',
      'p50 ms',
      'p99 ms',
      'max ms',
      'p99 ≤ 10 ms',
      `c=${CONNECTIONS} p50`,
      'p99',
      'req/s',
      '≥ 5,000/s',
    ];
    const rows = results.map(({ scenario, seq, load }) => [
      scenario.name,
      seq.p50.toFixed(2),
      seq.p99.toFixed(2),
      seq.max.toFixed(1),
      scenario.baseline ? '' : seq.p99 <= 10 ? 'yes' : 'NO',
      load ? String(load.p50) : '',
      load ? String(load.p99) : '',
      load ? int(load.rps) : '',
      scenario.baseline || !load ? '' : load.rps >= 5000 ? 'yes' : 'NO',
    ]);
    const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
    const line = (cells) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
    console.log(
      `${int(builds)} builds of ${int(functions)} functions (${HOT} hot × ${int(perHot)}, ${COLD} cold × ${int(perCold)}); read_builds ${size}`,
    );
    console.log(
      `sequential: ${SEQUENTIAL} requests after ${WARMUP} warm-up, one connection, client-side latency; autocannon: ${CONNECTIONS} connections for ${DURATION} s (whole ms)`,
    );
    for (const row of [header, ...rows]) console.log(line(row));
    for (const check of checks) console.log(`paging: ${check}`);

    // Where the time goes on the server: the handler's query, explained.
    const [seqOf, idOf] = JSON.parse(Buffer.from(deepCursors[0], 'base64url').toString('utf8'));
    for (const [label, limit, before] of [
      ['first page', 50, null],
      ['deep page', 50, [seqOf, idOf]],
      ['limit=500 deep', 500, [seqOf, idOf]],
    ]) {
      const plan = await explain(client, hotName(0), limit, before);
      console.log(`EXPLAIN ANALYZE ${label}, ${hotName(0)}:\n${plan.map((l) => `    ${l}`).join('\n')}`);
    }
  } finally {
    await client.end();
  }
} finally {
  await api?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  await database.drop();
  await server.stop();
}
