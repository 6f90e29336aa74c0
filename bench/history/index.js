// Cost per push against history: seconds from the webhook's 202 to the new version answering, for a push to a
// fresh repository and for the same push to a repository with BENCH_HISTORY (default 10,000) earlier pushes of
// the same function, both on one server and measured in turn (goal: history <= 1.1 x fresh).
// Pushing 10,000 times through the pipeline would take hours, so the history is seeded: one real push of the
// aged repository is recorded first, then its events (every stream the push wrote to: the repository's, the
// function's, the commit's) are copied BENCH_HISTORY times with new ids, SHAs, builds, context digests and images,
// and inserted straight into the events table while faasline is stopped. The pipeline's checkpoint is moved past
// them (they are history, not work), the read models catch up from them on restart, and only then is anything timed.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { serveGitRepositories } from '../../dist/libs/infra/index.js';
import { freshDatabase, startPostgres } from '../postgres.js';
import { answered, deliverPush, pushPayload, startFaasline } from '../faasline.js';

const HISTORY = Number(process.env.BENCH_HISTORY ?? 10_000);
const PUSHES = Number(process.env.BENCH_PUSHES ?? 7);
// How long one push may take to answer: the fold of a long history before snapshots took minutes.
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT ?? 120) * 1000;
const GOAL = 1.1;
const SECRET = 'bench-history-secret';
const work = mkdtempSync(join(tmpdir(), 'faasline-bench-history-'));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };

/** A repository of one node20 function `fn1` with a local dependency, as bench/push-to-live pushes it; its own owner. */
function repository(owner, id) {
  const dir = join(work, 'repos', owner, 'hello');
  mkdirSync(join(dir, 'fn1', 'greeting'), { recursive: true });
  const git = (...args) => execFileSync('git', args, { cwd: dir, env: gitEnv }).toString().trim();
  git('init', '-q', '-b', 'master');
  writeFileSync(
    join(dir, 'stack.yml'),
    'provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: node20\n    handler: ./fn1\n    image: fn1\n',
  );
  writeFileSync(
    join(dir, 'fn1', 'package.json'),
    '{"name":"fn1","version":"1.0.0","main":"handler.js","dependencies":{"greeting":"file:./greeting"}}\n',
  );
  writeFileSync(join(dir, 'fn1', 'greeting', 'package.json'), '{"name":"greeting","version":"1.0.0","main":"index.js"}\n');
  writeFileSync(join(dir, 'fn1', 'greeting', 'index.js'), "module.exports = (name) => 'Hello, ' + name + '!'\n");
  return {
    owner,
    id,
    name: `${owner}-fn1`,
    commit(answer) {
      writeFileSync(
        join(dir, 'fn1', 'handler.js'),
        `'use strict'\nconst greeting = require('greeting')\nmodule.exports = async (event, context) => context.status(200).succeed(greeting('${answer}'))\n`,
      );
      git('add', '-A');
      git('commit', '-q', '-m', answer);
      return git('rev-parse', 'HEAD');
    },
  };
}

const fresh = repository('fresh', 1);
const aged = repository('aged', 2);
const server = await startPostgres();
const database = await freshDatabase(server.url);
const gitServer = await serveGitRepositories({ resolve: (path) => join(work, 'repos', path.replace(/\.git$/, ''), '.git') });
const db = new pg.Pool({ connectionString: database.url, max: 2 });
const dataDir = join(work, 'data');

/** `npm start`'s main.ts on the bench database; the second start finds the first one's DATA_DIR. */
const startApi = () =>
  startFaasline({
    databaseUrl: database.url,
    dataDir,
    secret: SECRET,
    gitHost: new URL(gitServer.url).host,
    sandbox: process.env.SANDBOX ?? 'off',
  });

async function stopApi({ api }) {
  api.kill('SIGINT');
  await Promise.race([new Promise((resolve) => api.once('exit', resolve)), sleep(15_000)]);
  if (api.exitCode === null && api.signalCode === null) api.kill('SIGKILL');
}

async function deliver(target, repo, sha) {
  const payload = pushPayload({
    owner: repo.owner,
    ownerId: repo.id,
    repo: 'hello',
    repoId: repo.id,
    sha,
    cloneUrl: `${gitServer.url}/${repo.owner}/hello.git`,
  });
  return { deliveryId: await deliverPush(target.url, SECRET, payload), acceptedAt: performance.now() };
}

const deliveryTypes = async (deliveryId) =>
  (await db.query('SELECT type FROM events WHERE correlation_id = $1 ORDER BY global_position', [deliveryId])).rows.map((row) => row.type);

/** Pushes a new commit of `repo` and times it to its answer, then waits for the push's last status (its tail of work). */
async function pushToLive(target, repo, answer) {
  const sha = repo.commit(answer);
  const { deliveryId, acceptedAt } = await deliver(target, repo, sha);
  let live;
  try {
    // Polled gently until the build ends, so the bench's own requests do not load the cores the build runs on.
    const deadline = performance.now() + TIMEOUT_MS;
    while (!(await deliveryTypes(deliveryId)).some((type) => /^Build(Succeeded|Reused|Failed)$/.test(type)) && performance.now() < deadline)
      await sleep(25);
    live = await answered(`${target.gatewayUrl}/function/${repo.name}`, `Hello, ${answer}!`, TIMEOUT_MS);
  } catch (error) {
    throw new Error(`${error.message}\n${repo.owner}'s delivery's events: ${(await deliveryTypes(deliveryId)).join(', ')}`, {
      cause: error,
    });
  }
  await settled(deliveryId);
  return { seconds: (live - acceptedAt) / 1000, deliveryId, stages: await stagesOf(deliveryId) };
}

const STAGES = ['PushReceived', 'SourceFetched', 'BuildStarted', 'BuildSucceeded', 'FunctionDeployed'];

/** Milliseconds from each stage's event to the next one's, from the events' occurredAt. */
async function stagesOf(deliveryId) {
  const { rows } = await db.query('SELECT type, occurred_at FROM events WHERE correlation_id = $1', [deliveryId]);
  const at = (type) => rows.find((row) => row.type === type)?.occurred_at.getTime() ?? Number.NaN;
  return STAGES.slice(1).map((stage, index) => at(stage) - at(STAGES[index]));
}

/** Until the push's stack-deploy status is reported and the read models have caught up: the next push starts on a quiet server. */
async function settled(deliveryId) {
  for (const deadline = performance.now() + TIMEOUT_MS; performance.now() < deadline;) {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM events WHERE correlation_id = $1 AND type = 'CommitStatusReported'
         AND data->>'context' = 'stack-deploy' AND data->>'state' <> 'pending'`,
      [deliveryId],
    );
    if (rows[0].n > 0 && (await caughtUp())) return;
    await sleep(20);
  }
  throw new Error(`delivery ${deliveryId} did not settle`);
}

async function caughtUp() {
  const { rows } = await db.query(
    `SELECT (SELECT coalesce(max(global_position), 0) FROM events) AS head, coalesce(min(position), 0) AS least FROM subscription_checkpoints`,
  );
  return Number(rows[0].least) >= Number(rows[0].head);
}

/**
 * Copies the events of one real push `HISTORY` times into the events table: every copy with its own delivery id,
 * commit SHA, build id, context digest and image, its own event ids (causation ids follow them), the next versions
 * of each stream and the next global positions, and its push sequence where the events carry one.
 */
async function seedHistory(deliveryId) {
  const { rows: template } = await db.query('SELECT * FROM events WHERE correlation_id = $1 ORDER BY global_position', [deliveryId]);
  const received = template.find((row) => row.type === 'PushReceived');
  const built = template.find((row) => row.type === 'BuildSucceeded');
  if (!received || !built) throw new Error(`the template push has no PushReceived or BuildSucceeded: ${template.map((row) => row.type)}`);
  const { sha } = received.data;
  const { buildId, contextDigest, image } = built.data;
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query('LOCK TABLE events IN EXCLUSIVE MODE');
    const { rows: heads } = await client.query(
      'SELECT stream_id, max(stream_version) AS version FROM events WHERE stream_id = ANY($1) GROUP BY stream_id',
      [[...new Set(template.map((row) => row.stream_id))]],
    );
    const versions = new Map(heads.map((row) => [row.stream_id, Number(row.version)]));
    let position = Number((await client.query('SELECT max(global_position) AS head FROM events')).rows[0].head);
    let batch = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const column = (name) => batch.map((row) => row[name]);
      await client.query(
        `INSERT INTO events (global_position, stream_id, stream_version, event_id, type, schema_version, data, occurred_at, correlation_id, causation_id, actor)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::int[], $7::jsonb[], $8::timestamptz[], $9::text[], $10::text[], $11::text[])`,
        [
          column('global_position'),
          column('stream_id'),
          column('stream_version'),
          column('event_id'),
          column('type'),
          column('schema_version'),
          column('data'),
          column('occurred_at'),
          column('correlation_id'),
          column('causation_id'),
          column('actor'),
        ],
      );
      batch = [];
    };
    for (let copy = 1; copy <= HISTORY; copy++) {
      const swaps = [
        [deliveryId, randomUUID()],
        [sha, randomBytes(20).toString('hex')],
        [buildId, randomUUID()],
        [contextDigest, randomBytes(32).toString('hex')],
        [image, `${image}-h${copy}`],
      ];
      const swap = (text) => swaps.reduce((out, [from, to]) => out.split(from).join(to), text);
      const ids = new Map(template.map((row) => [row.event_id, randomUUID()]));
      let pushSequence = 0;
      for (const row of template) {
        const streamId = swap(row.stream_id);
        const version = (versions.get(streamId) ?? 0) + 1;
        versions.set(streamId, version);
        if (row.type === 'PushReceived') pushSequence = version;
        const data = JSON.parse(swap(JSON.stringify(row.data)));
        if (typeof data.pushSequence === 'number') data.pushSequence = pushSequence;
        batch.push({
          global_position: ++position,
          stream_id: streamId,
          stream_version: version,
          event_id: ids.get(row.event_id),
          type: row.type,
          schema_version: row.schema_version,
          data: JSON.stringify(data),
          occurred_at: row.occurred_at,
          correlation_id: swap(row.correlation_id),
          causation_id: ids.get(row.causation_id) ?? swap(row.causation_id),
          actor: row.actor,
        });
      }
      if (batch.length >= 5000) await flush();
    }
    await flush();
    // History, not work: the pipeline's process manager starts after it. The read models do fold it.
    await client.query(`UPDATE subscription_checkpoints SET position = $1 WHERE subscriber = 'pipeline.process'`, [position]);
    await client.query('COMMIT');
    await client.query('ANALYZE events');
    return { events: HISTORY * template.length, perPush: template.map((row) => row.type) };
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

let target = await startApi();
try {
  const first = await pushToLive(target, aged, 'aged warm-up');
  await pushToLive(target, fresh, 'fresh warm-up');
  await stopApi(target);
  const seedStarted = performance.now();
  const seeded = await seedHistory(first.deliveryId);
  console.log(
    `seeded ${HISTORY} pushes (${seeded.events} events, ${seeded.perPush.length} a push: ${seeded.perPush.join(', ')}) in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
  );
  target = await startApi();
  const catchUp = performance.now();
  while (!(await caughtUp())) await sleep(100);
  console.log(`read models caught up with the history in ${((performance.now() - catchUp) / 1000).toFixed(1)} s`);
  const streams = async (repo) =>
    (
      await db.query(
        `SELECT (SELECT count(*) FROM events WHERE stream_id = $1)::int AS repository, (SELECT count(*) FROM events WHERE stream_id = $2)::int AS function`,
        [`repository-${repo.owner}/hello`, `function-${repo.name}`],
      )
    ).rows[0];
  // Warm again after the restart (JIT, pools, the install cache), unmeasured.
  const [agedFirst, freshFirst] = [
    await pushToLive(target, aged, 'aged after restart'),
    await pushToLive(target, fresh, 'fresh after restart'),
  ];
  console.log(
    `first push after the restart (unmeasured): fresh ${freshFirst.seconds.toFixed(2)} s, ${HISTORY} earlier pushes ${agedFirst.seconds.toFixed(2)} s`,
  );
  const times = { fresh: [], aged: [] };
  const stages = { fresh: [], aged: [] };
  for (let i = 1; i <= PUSHES; i++) {
    // Alternating which goes first: the second push of a round finds the first one's install to copy.
    const order = i % 2 === 0 ? [aged, fresh] : [fresh, aged];
    const round = {};
    for (const repo of order) {
      const push = await pushToLive(target, repo, `${repo.owner} v${i}`);
      round[repo.owner] = push.seconds;
      stages[repo.owner].push(push.stages);
    }
    times.fresh.push(round.fresh);
    times.aged.push(round.aged);
    console.log(`push ${i}: fresh ${round.fresh.toFixed(2)} s, ${HISTORY} earlier pushes ${round.aged.toFixed(2)} s`);
  }
  const [freshStreams, agedStreams] = [await streams(fresh), await streams(aged)];
  console.log(
    `streams: fresh repository ${freshStreams.repository} events, function ${freshStreams.function}; aged repository ${agedStreams.repository}, function ${agedStreams.function}`,
  );
  const snapshots = await db
    .query(
      `SELECT stream_id, name, version, pg_column_size(state) AS bytes FROM snapshots WHERE stream_id LIKE '%aged%' ORDER BY stream_id`,
    )
    .then(({ rows }) => rows)
    .catch(() => []);
  for (const row of snapshots) console.log(`snapshot ${row.stream_id} (${row.name}): at version ${row.version}, ${row.bytes} bytes stored`);
  const baseline = median(times.fresh);
  const history = median(times.aged);
  const ratio = history / baseline;
  console.log(`\nfresh repository, median of ${PUSHES}: ${baseline.toFixed(2)} s`);
  console.log(`repository with ${HISTORY} earlier pushes, median of ${PUSHES}: ${history.toFixed(2)} s`);
  console.log(`ratio: ${ratio.toFixed(2)} (goal <= ${GOAL}): ${ratio <= GOAL ? 'yes' : 'NO'}`);
  console.log(`median paired difference: ${(median(times.aged.map((t, i) => t - times.fresh[i])) * 1000).toFixed(0)} ms`);
  console.log("stages, median ms (from the events' occurredAt): fresh / with history");
  STAGES.slice(1).forEach((stage, index) =>
    console.log(
      `  ${`${STAGES[index]} -> ${stage}`.padEnd(36)} ${String(median(stages.fresh.map((s) => s[index]))).padStart(5)} / ${String(median(stages.aged.map((s) => s[index]))).padStart(5)}`,
    ),
  );
} catch (error) {
  console.error(`bench failed: ${error.message}\n--- api output (tail) ---\n${target.output.split('\n').slice(-40).join('\n')}`);
  process.exitCode = 1;
} finally {
  await stopApi(target);
  await db.end();
  await gitServer.close();
  await database.drop();
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
