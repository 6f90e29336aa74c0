// Events appended per second: our group-commit store against Emmett's PostgreSQL store, same server, same load.
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import pg from 'pg';
import { openDataSource, PostgresEventStore } from '../../dist/libs/infra/index.js';
import { freshDatabase, startPostgres } from '../postgres.js';

const WRITERS = 16;
const STREAMS = 100;
// Both stores get the same pool, larger than the writer count, so neither is capped by connections.
const POOL = 20;
const META = { correlationId: 'bench', causationId: 'bench', actor: 'system:bench' };
const scenarios = [
  { name: 'single event', batch: 1, appends: 10_000, warmup: 1_000, goal: 2 },
  { name: 'batch of 10', batch: 10, appends: 2_000, warmup: 200, goal: 1 },
];

const eventsOf = (count) =>
  Array.from({ length: count }, (_, i) => ({
    type: 'PushIgnored',
    data: { deliveryId: `d-${i}`, owner: 'bench', repo: 'append', ref: 'refs/heads/main', sha: 'f'.repeat(40), reason: 'bench' },
  }));

/**
 * WRITERS loops share `appends` appends. Each writer owns the streams s ≡ w (mod WRITERS) and visits them in
 * turn, so it always knows the real version and every append is a checked one, never 'any'.
 */
async function drive(store, prefix, batch, appends) {
  let claimed = 0;
  const writer = async (w) => {
    const owned = [];
    for (let s = w; s < STREAMS; s += WRITERS) owned.push({ id: `bench-${prefix}${s}`, version: 0 });
    for (let turn = 0; claimed < appends; turn++) {
      claimed++;
      const stream = owned[turn % owned.length];
      stream.version = await store.append(stream.id, stream.version, eventsOf(batch));
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  return { events: appends * batch, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

async function ours(url) {
  const db = await openDataSource(url, { poolSize: POOL });
  const store = new PostgresEventStore(db, { outbox: false });
  // Wraps the private commit only to report how many appends each transaction carried: the group-commit size
  // decides the rate, and it depends on how fast released writers re-enqueue (even one extra await halves it).
  const transactions = [];
  const commit = store.commit.bind(store);
  store.commit = (pending) => (transactions.push(pending.length), commit(pending));
  return {
    transactions,
    append: async (stream, version, events) => (await store.append(stream, version, events, META)).nextExpectedVersion,
    count: async () => Number((await db.query('SELECT count(*) AS n FROM events'))[0].n),
    close: () => db.destroy(),
  };
}

async function emmett(url) {
  // dumbo's default pg pool holds 10 connections, which would throttle Emmett below our 16 writers.
  const pool = new pg.Pool({ connectionString: url, max: POOL });
  // pool.end() resolves before its sockets close; the DROP ... WITH (FORCE) after it must not crash the run.
  pool.on('error', () => {});
  const store = getPostgreSQLEventStore(url, { connectionOptions: { pool } });
  await store.schema.migrate();
  return {
    append: async (stream, version, events) =>
      Number((await store.appendToStream(stream, events, { expectedStreamVersion: BigInt(version) })).nextExpectedStreamVersion),
    count: async () => Number((await pool.query('SELECT count(*) AS n FROM emt_messages')).rows[0].n),
    close: async () => {
      await store.close();
      await pool.end();
    },
  };
}

async function measure(open, url, scenario) {
  const database = await freshDatabase(url);
  try {
    const store = await open(database.url);
    try {
      await drive(store, 'warm-', scenario.batch, scenario.warmup);
      store.transactions?.splice(0);
      const run = await drive(store, 'run-', scenario.batch, scenario.appends);
      const stored = await store.count();
      const expected = (scenario.warmup + scenario.appends) * scenario.batch;
      if (stored !== expected) throw new Error(`${scenario.name}: ${stored} rows stored, ${expected} appended`);
      const perTx = store.transactions && scenario.appends / store.transactions.length;
      return { rate: run.events / run.seconds, perTx, maxTx: store.transactions && Math.max(...store.transactions) };
    } finally {
      await store.close();
    }
  } finally {
    await database.drop();
  }
}

const server = await startPostgres();
try {
  const results = [];
  // Ours first, every scenario: Emmett's dumbo replaces pg's global type parsers (int8 -> BigInt, json with
  // BigInts) on first use, which would change what our store reads back in this process.
  for (const scenario of scenarios) results.push({ scenario, ours: await measure(ours, server.url, scenario) });
  for (const result of results) result.emmett = await measure(emmett, server.url, result.scenario);

  const header = ['scenario', 'ours ev/s', 'Emmett ev/s', 'ours/Emmett', 'goal', 'met', 'ours appends/tx (max)'];
  const rows = results.map(({ scenario, ours: o, emmett: e }) => {
    const ratio = o.rate / e.rate;
    return [
      `${scenario.name} ×${scenario.appends}`,
      Math.round(o.rate),
      Math.round(e.rate),
      ratio.toFixed(2),
      `≥ ${scenario.goal}×`,
      ratio >= scenario.goal ? 'yes' : 'NO',
      `${o.perTx.toFixed(1)} (${o.maxTx})`,
    ].map(String);
  });
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(`${WRITERS} writers, ${STREAMS} streams, pool ${POOL}; row counts verified after each run`);
  for (const row of [header, ...rows]) console.log(line(row));
} finally {
  await server.stop();
}
