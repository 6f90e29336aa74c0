// Scaling measured: pushes per minute through the pipeline with one and with two `pipeline` worker processes on
// this machine, each run beside one `ingress` and one `projector` process (bin/faasline-server.js roles) over one
// Postgres and the log (Kafka when KAFKA_BROKERS names brokers, else the embedded log), and the projector's lag
// under that load. Every push does real work: a clone over loopback HTTP, a local build per function whose
// dependency changed (npm install), a deploy to the strict OpenFaaS gateway fake of the tests.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { freshDatabase, startPostgres } from '../postgres.js';
import { importTestSupport } from '../test-support.js';

const PUSHES = Number(process.env.BENCH_PUSHES ?? 16);
const REPOS = Number(process.env.BENCH_REPOS ?? 8);
// Per repository: every push changes both, so each push is two builds and two deploys.
const NAMES = ['fn1', 'fn2'];
const FUNCTIONS = NAMES.length;
// One build slot per worker: a worker stands for one unit of build capacity, as one worker per machine would. With
// the default of 2, one worker already runs two npm installs at once on this machine's two cores.
const BUILD_CONCURRENCY = process.env.BENCH_BUILD_CONCURRENCY ?? '1';
const SAMPLE_MS = 100;
const PUSH_TIMEOUT_MS = 120_000;
const SECRET = 'bench-scale-secret';
const READ_MODELS = 'projector:read-models';
const root = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'faasline-bench-scale-'));
const brokers = (process.env.KAFKA_BROKERS ?? '').trim();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values, p) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

const { gitFixtures } = await importTestSupport('git-repos');
const { deliverPushBody, pushPayload } = await importTestSupport('github-payloads');
const { startFakeGateway } = await importTestSupport('fake-openfaas');

// Pushes in flight bound the throughput of a closed loop (in flight / one push's latency): enough of them that
// the workers, not the loop, set the pace. Several owners, one repository each: an owner's builds are capped across all workers (MAX_BUILDS_PER_OWNER), so
// one owner's pushes would never keep two workers busy. Every commit is made before the first push: git's own CPU
// stays out of the measurement, and a push fetches its commit by SHA as it would from GitHub.
const git = await gitFixtures();
const repos = Array.from({ length: REPOS }, (_, index) => ({ owner: `scale${index + 1}`, repo: 'fns', id: 9100 + index }));
const files = (version) => {
  const tree = {
    'stack.yml': `provider:\n  name: openfaas\nfunctions:\n${NAMES.map((fn) => `  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: ${fn}\n`).join('')}`,
  };
  for (const fn of NAMES) {
    tree[`${fn}/handler.js`] =
      `'use strict'\nconst greeting = require('greeting')\nmodule.exports = async (event, context) => context.status(200).succeed(greeting('${fn} ${version}'))\n`;
    tree[`${fn}/package.json`] = `{"name":"${fn}","version":"1.0.0","main":"handler.js","dependencies":{"greeting":"file:./greeting"}}\n`;
    tree[`${fn}/greeting/package.json`] = '{"name":"greeting","version":"1.0.0","main":"index.js"}\n';
    // The dependency changes with every push, so every build installs it (an unchanged one would be reused).
    tree[`${fn}/greeting/index.js`] = `module.exports = (name) => 'Hello, ' + name + '!'\n// ${version}\n`;
  }
  return tree;
};
// Per repository: the warm-up commit, then its share of the measured pushes.
const shares = repos.map((_, index) => Math.floor(PUSHES / REPOS) + (index < PUSHES % REPOS ? 1 : 0));
for (const [index, repo] of repos.entries()) {
  repo.warmUp = git.commit(repo.owner, repo.repo, files('warm-up'), 'warm-up');
  repo.commits = Array.from({ length: shares[index] }, (_, n) => git.commit(repo.owner, repo.repo, files(`v${n + 1}`), `v${n + 1}`));
}

const server = await startPostgres();
const databases = [];
const inherited = { ...process.env };
for (const name of Object.keys(inherited))
  if (/^(FAASLINE_|OPENFAAS_|BUILDKIT_|KAFKA_|SANDBOX|TEMPLATES_DIR|ADMIN_TOKEN|DATABASE_URL|PORT$|GATEWAY_PORT|HEALTH_PORT)/.test(name))
    delete inherited[name];

/** Starts `bin/faasline-server.js <role>`; resolves once it says it serves. */
function startRole(role, env, ready) {
  const child = spawn(process.execPath, [join(root, 'bin/faasline-server.js'), role], {
    cwd: root,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = { role, child, output: '', url: null };
  return new Promise((resolve, reject) => {
    const read = (chunk) => {
      started.output += chunk;
      const match = ready.exec(started.output);
      if (match && !started.url) {
        started.url = match[1] ?? '';
        resolve(started);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => reject(new Error(`${role} exited ${code}:\n${started.output.split('\n').slice(-20).join('\n')}`)));
  });
}

async function stopRole({ child }) {
  if (child.exitCode !== null) return;
  child.kill('SIGINT');
  await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(10_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** One deployment: ingress + projector + `workers` pipeline processes on a fresh database (and topic). */
async function measure(workers) {
  const database = await freshDatabase(server.url);
  databases.push(database);
  const gateway = await startFakeGateway('admin', 'bench-gateway-password');
  const topic = `faasline.bench-scale.${workers}.${randomUUID().slice(0, 8)}`;
  const shared = {
    DATABASE_URL: database.url,
    KAFKA_BROKERS: brokers,
    ...(brokers ? { KAFKA_TOPIC: topic } : {}),
    HOST: '127.0.0.1',
    PORT: '0',
    GITHUB_WEBHOOK_SECRET: SECRET,
    LINKS_SECRET: 'bench-scale-links',
    SEAL_PRIVATE_KEY: randomBytes(32).toString('base64url'),
    ADMIN_TOKEN: 'bench-scale-admin',
    OPENFAAS_URL: gateway.url,
    OPENFAAS_USER: gateway.user,
    OPENFAAS_PASSWORD: gateway.password,
    GIT_ALLOWED_HOSTS: new URL(git.server.url).host,
    CUSTOMERS: repos.map((repo) => repo.owner).join(','),
    SANDBOX: process.env.SANDBOX ?? 'off',
    BUILD_CONCURRENCY,
  };
  const dataDir = (name) => join(work, `${workers}-workers`, name);
  const processes = [];
  const client = new pg.Client({ connectionString: database.url });
  let sampling = null;
  try {
    // The ingress first: it migrates the database and creates the topic before the others connect.
    const ingress = await startRole('ingress', { ...shared, DATA_DIR: dataDir('ingress') }, /listening on (http:\/\/[^\s"]+)/);
    processes.push(ingress);
    const others = await Promise.all([
      startRole('projector', { ...shared, DATA_DIR: dataDir('projector') }, /projecting from the (\w+) log/),
      ...Array.from({ length: workers }, (_, index) =>
        startRole('pipeline', { ...shared, DATA_DIR: dataDir(`pipeline-${index + 1}`) }, /listening on (http:\/\/[^\s"]+)/),
      ),
    ]);
    processes.push(...others);
    const pipelines = others.slice(1);
    await client.connect();

    const outstanding = new Map(); // delivery id -> resolve/reject
    let polling = true;
    const poller = (async () => {
      while (polling) {
        if (outstanding.size > 0) {
          const { rows } = await client.query(
            `SELECT correlation_id, count(*) FILTER (WHERE type = 'FunctionDeployed')::int AS deployed,
                    string_agg(CASE WHEN type IN ('PushIgnored', 'SourceRejected', 'BuildFailed', 'BuildSuperseded', 'DeployFailed', 'FunctionRejected') OR
                      (type = 'CommitStatusReported' AND data->>'context' = 'stack-deploy' AND data->>'state' IN ('failure', 'error'))
                      THEN type || ': ' || coalesce(data->>'reason', data->>'description', '') END, '; ') AS failures
               FROM events WHERE correlation_id = ANY($1) GROUP BY correlation_id`,
            [[...outstanding.keys()]],
          );
          for (const row of rows) {
            const waiting = outstanding.get(row.correlation_id);
            if (row.failures) waiting.reject(new Error(`push ${row.correlation_id} failed: ${row.failures}`));
            else if (row.deployed >= FUNCTIONS) waiting.resolve();
            else continue;
            outstanding.delete(row.correlation_id);
          }
          for (const [id, waiting] of outstanding)
            if (performance.now() > waiting.deadline) {
              outstanding.delete(id);
              waiting.reject(new Error(`push ${id} not deployed within ${PUSH_TIMEOUT_MS / 1000} s`));
            }
        }
        await sleep(25);
      }
    })();

    /** Delivers a signed push of `sha` and resolves when all its functions are deployed (read from the events). */
    const push = async (repo, sha) => {
      const body = pushPayload({
        owner: repo.owner,
        repo: repo.repo,
        sha,
        cloneUrl: git.cloneUrl(repo.owner, repo.repo),
        ownerId: repo.id,
        repositoryId: repo.id,
      });
      const deliveryId = randomUUID();
      const done = new Promise((resolve, reject) =>
        outstanding.set(deliveryId, { resolve, reject, deadline: performance.now() + PUSH_TIMEOUT_MS }),
      );
      const { status } = await deliverPushBody(ingress.url, SECRET, body, deliveryId);
      if (status !== 202) {
        outstanding.delete(deliveryId);
        throw new Error(`push answered ${status}`);
      }
      await done;
      return deliveryId;
    };

    // Warm-up (not measured): every repository's first push creates its functions; JIT, pools, consumer groups settle.
    const loadBefore = loadavg()[0];
    const warmUpStarted = performance.now();
    await Promise.all(repos.map((repo) => push(repo, repo.warmUp)));
    const warmUpSeconds = (performance.now() - warmUpStarted) / 1000;

    // The projector's lag, sampled: the store head against the events the read models have applied.
    const samples = [];
    let watermark = Number((await client.query('SELECT coalesce(max(global_position), 0) AS head FROM events')).rows[0].head);
    const lagClient = new pg.Client({ connectionString: database.url });
    await lagClient.connect();
    let sampleOn = true;
    sampling = (async () => {
      while (sampleOn) {
        const sample = await lagSample(lagClient, watermark);
        watermark = sample.projectedUpTo;
        samples.push(sample);
        await sleep(SAMPLE_MS);
      }
      await lagClient.end();
    })();

    // How many workers are installing at each moment: whether a second worker really adds a build running.
    const busy = [];
    const busyTimer = setInterval(() => busy.push(installing(pipelines.map((worker) => worker.child.pid))), 500);
    // Measured: every repository pushes its commits one after the other (the next when the last one is deployed),
    // all repositories at once: REPOS pushes in flight, none superseded by a newer push on its branch.
    const measured = [];
    const started = performance.now();
    await Promise.all(
      repos.map(async (repo) => {
        for (const sha of repo.commits) measured.push(await push(repo, sha));
      }),
    );
    const wallSeconds = (performance.now() - started) / 1000;
    clearInterval(busyTimer);
    polling = false;
    await poller;
    // Let the projector catch up (its lag after the load is part of the figure), then stop sampling.
    const caughtUp = performance.now() + 30_000;
    while (performance.now() < caughtUp) {
      const last = samples.at(-1);
      if (last && last.unprojected === 0 && last.at > Date.now() - 2 * SAMPLE_MS) break;
      await sleep(SAMPLE_MS);
    }
    sampleOn = false;
    await sampling;
    sampling = null;
    // The last pushes' trailing jobs (statuses, garbage collection) finish before anything is checked.
    const drained = performance.now() + 30_000;
    while (performance.now() < drained) {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM pipeline_jobs WHERE done_at IS NULL');
      if (rows[0].n === 0) break;
      await sleep(200);
    }

    const [span] = (
      await client.query(
        `SELECT min(occurred_at) FILTER (WHERE type = 'PushReceived') AS first_delivery,
                max(occurred_at) FILTER (WHERE type = 'FunctionDeployed') AS last_deployed,
                count(*) FILTER (WHERE type = 'FunctionDeployed')::int AS deployed,
                count(*) FILTER (WHERE type = 'BuildStarted')::int AS built
           FROM events WHERE correlation_id = ANY($1)`,
        [measured],
      )
    ).rows;
    const seconds = (span.last_deployed - span.first_delivery) / 1000;
    const problems = await correctness(client, gateway);
    const load = samples.filter((sample) => sample.at >= span.first_delivery.getTime() && sample.at <= span.last_deployed.getTime());
    const lastLagging = samples.findLast((sample) => sample.unprojected > 0);
    return {
      workers,
      mode: brokers ? `Kafka ${brokers}, topic ${topic}` : 'embedded log',
      warmUpSeconds,
      wallSeconds,
      load: [loadBefore, loadavg()[0]],
      seconds,
      pushesPerMinute: (measured.length / seconds) * 60,
      deployed: span.deployed,
      built: span.built,
      pushes: measured.length,
      lag: {
        samples: load.length,
        maxEvents: Math.max(0, ...load.map((sample) => sample.unprojected)),
        p50Events: percentile(
          load.map((sample) => sample.unprojected),
          50,
        ),
        maxMs: Math.max(0, ...load.map((sample) => sample.ageMs)),
        p50Ms: percentile(
          load.map((sample) => sample.ageMs),
          50,
        ),
        caughtUpAfterMs: lastLagging ? Math.max(0, lastLagging.at + SAMPLE_MS - span.last_deployed.getTime()) : 0,
        timeline: load,
      },
      busy: Array.from({ length: workers + 1 }, (_, n) => busy.filter((count) => count === n).length / Math.max(1, busy.length)),
      buildsPerWorker: pipelines.map((_, index) => imagesBuilt(dataDir(`pipeline-${index + 1}`))),
      stages: await stagesOf(client, measured),
      problems,
    };
  } catch (error) {
    for (const one of processes) console.error(`--- ${one.role} (tail) ---\n${one.output.split('\n').slice(-15).join('\n')}`);
    throw error;
  } finally {
    await sampling?.catch(() => undefined);
    await client.end().catch(() => undefined);
    await Promise.all(processes.map(stopRole));
    await gateway.close();
    if (brokers) await deleteTopic(topic).catch((error) => console.error(`could not delete topic ${topic}: ${error.message}`));
  }
}

/**
 * One sample: the store head and how many events the read models have not applied yet, with the age of the
 * oldest of them (0 when caught up). On the embedded log the checkpoint is one position; on Kafka partitions are
 * applied independently, so applied events are those at or below their stream's last applied version.
 */
async function lagSample(db, watermark) {
  const { rows } = await db.query(
    brokers
      ? `WITH pending AS (
           SELECT e.global_position, e.occurred_at FROM events e
             LEFT JOIN subscription_streams s ON s.subscriber = $1 AND s.stream_id = e.stream_id
            WHERE e.global_position > $2 AND e.stream_version > coalesce(s.version, 0))
         SELECT (extract(epoch FROM now()) * 1000)::float8 AS at,
                (SELECT coalesce(max(global_position), 0) FROM events)::int AS head,
                (SELECT count(*) FROM pending)::int AS unprojected,
                (SELECT min(global_position) FROM pending)::int AS oldest_position,
                (SELECT (extract(epoch FROM min(occurred_at)) * 1000)::float8 FROM pending) AS oldest_at`
      : `WITH checkpoint AS (SELECT coalesce((SELECT position FROM subscription_checkpoints WHERE subscriber = $1), 0) AS position)
         SELECT (extract(epoch FROM now()) * 1000)::float8 AS at,
                (SELECT coalesce(max(global_position), 0) FROM events)::int AS head,
                ((SELECT coalesce(max(global_position), 0) FROM events) - checkpoint.position)::int AS unprojected,
                (checkpoint.position + 1)::int AS oldest_position,
                (SELECT (extract(epoch FROM occurred_at) * 1000)::float8 FROM events WHERE global_position = checkpoint.position + 1) AS oldest_at
           FROM checkpoint`,
    brokers ? [READ_MODELS, watermark] : [READ_MODELS],
  );
  const row = rows[0];
  const ageMs = row.unprojected > 0 && row.oldest_at !== null ? Math.max(0, row.at - row.oldest_at) : 0;
  return {
    at: row.at,
    head: row.head,
    unprojected: row.unprojected,
    ageMs,
    projectedUpTo: row.unprojected > 0 ? row.oldest_position - 1 : row.head,
  };
}

/** What two workers must never do: run a job twice, build or deploy one function of one push twice. */
async function correctness(db, gateway) {
  const problems = [];
  const { rows: twice } = await db.query(
    `SELECT correlation_id, type, coalesce(data->>'name', '') AS name, count(*)::int AS n FROM events
      WHERE type IN ('SourceFetched', 'BuildStarted', 'BuildSucceeded', 'FunctionDeployed', 'DeployFailed')
      GROUP BY 1, 2, 3 HAVING count(*) > 1`,
  );
  for (const row of twice) problems.push(`${row.type} ${row.n} times for ${row.name || 'the push'} of delivery ${row.correlation_id}`);
  const { rows: retried } = await db.query(
    `SELECT step, id, attempts, last_error FROM pipeline_jobs WHERE attempts > 1 OR done_at IS NULL ORDER BY seq`,
  );
  for (const job of retried)
    problems.push(
      `job ${job.id} (${job.step}): ${job.attempts} attempts${job.last_error ? `, last error: ${job.last_error}` : ', not done'}`,
    );
  const deploys = new Map();
  for (const call of gateway.calls) {
    if (call.path !== '/system/functions' || (call.method !== 'PUT' && call.method !== 'POST')) continue;
    const key = `${call.method} ${call.body?.service} ${call.body?.image}`;
    deploys.set(key, (deploys.get(key) ?? 0) + 1);
  }
  for (const [key, n] of deploys) if (n > 1) problems.push(`gateway got ${key} ${n} times`);
  return problems;
}

/** Which of `workers` (pids) run an npm install right now: a process tree walk over /proc. */
function installing(workers) {
  const parents = new Map();
  const installs = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if (/\bnpm\b.*\binstall\b/.test(readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' '))) installs.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  const busy = new Set();
  for (let pid of installs)
    for (let hops = 0; pid > 1 && hops < 20; hops++, pid = parents.get(pid) ?? 0) if (workers.includes(pid)) busy.add(pid);
  return busy.size;
}

/** The images a worker's local builder made (one name each, in its own DATA_DIR): the builds it ran. */
const imagesBuilt = (dataDir) =>
  existsSync(join(dataDir, 'images', 'by-name')) ? readdirSync(join(dataDir, 'images', 'by-name')).length : 0;

/** Median ms from each measured push's PushReceived to its source fetched, first build started, last build done and last deploy. */
async function stagesOf(db, deliveries) {
  const { rows } = await db.query(
    `SELECT correlation_id,
            (extract(epoch FROM (SELECT min(created_at) FROM pipeline_jobs WHERE step = 'fetch-source' AND payload->'cause'->>'correlationId' = correlation_id)
              - min(occurred_at) FILTER (WHERE type = 'PushReceived')) * 1000)::int AS enqueued,
            (extract(epoch FROM min(occurred_at) FILTER (WHERE type = 'SourceFetched') - min(occurred_at) FILTER (WHERE type = 'PushReceived')) * 1000)::int AS fetched,
            (extract(epoch FROM min(occurred_at) FILTER (WHERE type = 'BuildStarted') - min(occurred_at) FILTER (WHERE type = 'PushReceived')) * 1000)::int AS building,
            (extract(epoch FROM max(occurred_at) FILTER (WHERE type = 'BuildSucceeded') - min(occurred_at) FILTER (WHERE type = 'PushReceived')) * 1000)::int AS built,
            (extract(epoch FROM max(occurred_at) FILTER (WHERE type = 'FunctionDeployed') - min(occurred_at) FILTER (WHERE type = 'PushReceived')) * 1000)::int AS deployed
       FROM events WHERE correlation_id = ANY($1) GROUP BY correlation_id`,
    [deliveries],
  );
  const median = (key) =>
    percentile(
      rows.map((row) => row[key]),
      50,
    );
  return {
    enqueued: median('enqueued'),
    fetched: median('fetched'),
    building: median('building'),
    built: median('built'),
    deployed: median('deployed'),
  };
}

async function deleteTopic(topic) {
  const admin = new Kafka({ clientId: 'bench-scale', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
  } finally {
    await admin.disconnect();
  }
}

const report = (result) => {
  const { lag } = result;
  console.log(
    `${result.workers} pipeline worker${result.workers > 1 ? 's' : ' '}: ${result.pushesPerMinute.toFixed(1).padStart(6)} pushes/min  (${result.pushes} pushes, ${result.built} builds, ${result.deployed} deploys in ${result.seconds.toFixed(1)} s from first delivery to last FunctionDeployed; warm-up ${result.warmUpSeconds.toFixed(1)} s; machine load average ${result.load.map((value) => value.toFixed(1)).join(' -> ')})`,
  );
  console.log(
    `   projector lag under load (${lag.samples} samples every ${SAMPLE_MS} ms): events behind the store head max ${lag.maxEvents}, p50 ${lag.p50Events}; age of the oldest unprojected event max ${Math.round(lag.maxMs)} ms, p50 ${Math.round(lag.p50Ms)} ms; caught up ${lag.caughtUpAfterMs > 0 ? `${Math.round(lag.caughtUpAfterMs)} ms after the last deploy` : 'by the last deploy'}`,
  );
  const marks = lag.timeline.filter((_, index, all) => index % Math.max(1, Math.floor(all.length / 6)) === 0);
  if (marks.length > 0)
    console.log(
      `   appended/projected over time: ${marks.map((sample) => `+${((sample.at - lag.timeline[0].at) / 1000).toFixed(0)}s ${sample.head}/${sample.head - sample.unprojected}`).join(', ')}`,
    );
  const { stages } = result;
  console.log(
    `   one push, median from PushReceived: fetch enqueued (log to the workers' process manager) +${stages.enqueued} ms, source fetched +${stages.fetched} ms, first build started +${stages.building} ms, builds done +${stages.built} ms, deployed +${stages.deployed} ms`,
  );
  console.log(
    `   builds per worker (warm-up included): ${result.buildsPerWorker.join(' + ')}; share of the measured time with an npm install running in ${result.busy
      .map((share, n) => `${n} worker${n === 1 ? '' : 's'} ${(share * 100).toFixed(0)} %`)
      .join(', ')}`,
  );
  if (result.problems.length === 0)
    console.log('   correctness: no job run twice, no build or deploy duplicated, every job done in one attempt');
  else for (const problem of result.problems) console.log(`   PROBLEM: ${problem}`);
};

try {
  console.log(
    `${PUSHES} measured pushes over ${REPOS} repositories (${REPOS} owners, ${FUNCTIONS} node20 functions each, the dependency changed every push: ${PUSHES * FUNCTIONS} npm installs), ${REPOS} pushes in flight`,
  );
  console.log(
    `processes: 1 ingress + 1 projector + N pipeline (bin/faasline-server.js roles), BUILD_CONCURRENCY=${BUILD_CONCURRENCY} per worker, SANDBOX=${process.env.SANDBOX ?? 'off'}, local builder, deploys to the strict OpenFaaS gateway fake (test/support/fake-openfaas.ts)`,
  );
  console.log(
    `log: ${brokers ? `Kafka at ${brokers}` : 'embedded (the events table; set KAFKA_BROKERS for Kafka)'}; ${availableParallelism()} CPUs`,
  );
  const one = await measure(1);
  report(one);
  const two = await measure(2);
  report(two);
  console.log(
    `2 workers / 1 worker: ${(two.pushesPerMinute / one.pushesPerMinute).toFixed(2)}x  (on ${availableParallelism()} CPUs the ratio is bounded by the CPU count: ingress, projector, Postgres${brokers ? ', Kafka' : ''} and the builds share them)`,
  );
  if (one.problems.length + two.problems.length > 0) process.exitCode = 1;
} catch (error) {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
} finally {
  await git.close();
  for (const database of databases) await database.drop().catch(() => undefined);
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
