import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { openDataSource, silentLogger } from '#infra';
import { readModelChecksum, ReadModelReplayer } from '#projections';
import { eventually } from '../../../../libs/infra/test/support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from '../../../../libs/infra/test/support/test-database.js';
import { startFakeGateway, type FakeGateway } from '../../../../test/support/fake-openfaas.js';
import { gitFixtures, writeTemplates, type GitFixtures, type RepoFiles } from '../../../../test/support/git-repos.js';
import { pushPayload, signPayload } from '../../../../test/support/github-payloads.js';
import { bareEnv, root } from '../support/spawn-api.js';

/**
 * The distributed topology under faults: three Kafka brokers (deploy/local/kafka-cluster.sh, started by
 * scripts/chaos.js), two ingress, two pipeline and two projector processes of the built code, one Postgres and a
 * strict OpenFaaS gateway fake. Signed pushes flow to either ingress while a broker, an ingress, a pipeline worker
 * and a projector are each SIGKILLed and restarted at random moments; once everything is quiet, every accepted
 * push must have ended as the domain says, with no event lost or doubled and no deploy repeated.
 */

const seed = process.env.CHAOS_SEED ?? String(Date.now() % 1_000_000_000);
const KILLS = Number(process.env.CHAOS_KILLS ?? 3);
/** At most this many commits per repository: the pipeline of a small machine keeps up, and faults still land mid-push. */
const PUSHES = Number(process.env.CHAOS_PUSHES ?? 8);
const BASE_PORT = Number(process.env.CHAOS_BASE_PORT ?? 42100);
const STATE_DIR = process.env.CHAOS_STATE_DIR ?? join(root, '.cache', 'chaos');
const CLUSTER = join(root, 'deploy/local/kafka-cluster.sh');
const secret = `chaos-webhook-${randomUUID()}`;

/** mulberry32 over a hash of the seed: the whole schedule (pushes, kills, pauses) follows from CHAOS_SEED. */
function prng(text: string): () => number {
  let state = 0;
  for (const char of text) state = (Math.imul(state ^ char.charCodeAt(0), 0x9e3779b1) + 0x7f4a7c15) | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(seed);
const between = (low: number, high: number) => low + random() * (high - low);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const began = Date.now();
/** Progress on stderr as it happens (Jest holds console output until the test ends): what a stuck run was doing. */
const say = (line: string) => void process.stderr.write(`chaos +${((Date.now() - began) / 1000).toFixed(1)}s ${line}\n`);
const START_TIMEOUT = 180_000;

type Role = 'ingress' | 'pipeline' | 'projector';
type Member = { role: Role; index: number; port: number; dataDir: string; log: string; child: ChildProcess | null };

/** Two owners, two repositories each, three functions per repository. */
const repositories = [
  { owner: 'chaos-ann', ownerId: 9_100_001, repo: 'alpha', repositoryId: 9_200_001 },
  { owner: 'chaos-ann', ownerId: 9_100_001, repo: 'beta', repositoryId: 9_200_002 },
  { owner: 'chaos-bob', ownerId: 9_100_002, repo: 'gamma', repositoryId: 9_200_003 },
  { owner: 'chaos-bob', ownerId: 9_100_002, repo: 'delta', repositoryId: 9_200_004 },
] as const;
type Repository = (typeof repositories)[number];
const functionsOf = (repo: Repository) => [1, 2, 3].map((i) => `${repo.repo}-f${i}`);
const stack = (repo: Repository) =>
  `provider:\n  name: openfaas\nfunctions:\n${functionsOf(repo)
    .map((fn) => `  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: ${fn}:0.1\n`)
    .join('')}`;

type Delivery = { deliveryId: string; repo: Repository; sha: string; accepted: boolean; attempts: number };

describe(`faasline's distributed topology under faults (CHAOS_SEED=${seed})`, () => {
  let database: TestDatabase;
  let db: DataSource;
  let git: GitFixtures;
  let gateway: FakeGateway;
  let templatesDir: string;
  let env: NodeJS.ProcessEnv;
  const members: Member[] = [];
  const kills: Record<'broker' | Role, number> = { broker: 0, ingress: 0, pipeline: 0, projector: 0 };
  const deliveries: Delivery[] = [];
  const started = Date.now();

  const cluster = (...args: string[]) => promisify(execFile)('bash', [CLUSTER, ...args], { env: process.env });

  let closing = false;
  const launch = async (member: Member) => {
    for (let attempt = 1; ; attempt++) {
      if (closing) throw new Error(`not starting ${member.role}-${member.index}: the run is over`);
      const out = openSync(member.log, 'a');
      const child = spawn(process.execPath, [join(root, 'bin/faasline-server.js'), member.role], {
        cwd: root,
        env: {
          ...env,
          DATA_DIR: member.dataDir,
          ...(member.role === 'projector'
            ? { HEALTH_PORT: String(member.port) }
            : { PORT: String(member.port), PUBLIC_URL: `http://127.0.0.1:${member.port}` }),
        },
        stdio: ['ignore', out, out],
      });
      closeSync(out);
      member.child = child;
      // scripts/chaos.js ends whatever these name once Jest is gone, even a Jest that was killed itself.
      writeFileSync(`${member.log.replace(/\.log$/, '')}.pid`, String(child.pid));
      const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`${code ?? signal}`)));
      const deadline = Date.now() + START_TIMEOUT;
      const up = (async () => {
        for (;;) {
          if (Date.now() > deadline) return 'no /healthz answer in time';
          const ok = await fetch(`http://127.0.0.1:${member.port}/healthz`).then(
            (response) => response.ok,
            () => false,
          );
          if (ok) return null;
          await sleep(200);
        }
      })();
      const exit = await Promise.race([up, exited]);
      if (exit === null) {
        say(`${member.role}-${member.index} up (pid ${child.pid})`);
        return;
      }
      child.kill('SIGKILL');
      // A start can fail while a broker is down (metadata from the one being restarted): start again, as an orchestrator would.
      if (attempt === 3) throw new Error(`${member.role} ${member.index} exited ${exit} at start three times: see ${member.log}`);
    }
  };

  const kill = async (member: Member) => {
    const child = member.child!;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    member.child = null;
    say(`${member.role}-${member.index} SIGKILLed`);
  };

  beforeAll(async () => {
    say(`CHAOS_SEED=${seed} (set it to replay this run's commits, kills and pauses)`);
    rmSync(join(STATE_DIR, 'run'), { recursive: true, force: true });
    mkdirSync(join(STATE_DIR, 'run'), { recursive: true });
    database = await provisionTestDatabase();
    db = await openDataSource(database.url);
    git = await gitFixtures();
    gateway = await startFakeGateway();
    templatesDir = writeTemplates(['node20']);
    const brokers = process.env.KAFKA_BROKERS ?? '';
    if (brokers.split(',').length < 3) throw new Error('KAFKA_BROKERS must name the three-broker cluster: run npm run chaos');
    env = {
      ...bareEnv(),
      DATABASE_URL: database.url,
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC: `faasline.chaos.${randomUUID()}`,
      KAFKA_TOPIC_PARTITIONS: '6',
      KAFKA_REPLICATION_FACTOR: '3',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      GITHUB_WEBHOOK_SECRET: secret,
      LINKS_SECRET: `chaos-links-${randomUUID()}`,
      ADMIN_TOKEN: `chaos-admin-${randomUUID()}`,
      GIT_ALLOWED_HOSTS: new URL(git.server.url).host,
      TEMPLATES_DIR: templatesDir,
      OPENFAAS_URL: gateway.url,
      OPENFAAS_USER: gateway.user,
      OPENFAAS_PASSWORD: gateway.password,
      // Builds are the local builder's (handlers without dependencies: no npm run); trusted owners, no sandbox.
      SANDBOX: 'off',
      CUSTOMERS: [...new Set(repositories.map((repo) => repo.owner))].join(','),
    };
    const roles: Role[] = ['ingress', 'ingress', 'pipeline', 'pipeline', 'projector', 'projector'];
    roles.forEach((role, slot) => {
      const index = roles.slice(0, slot).filter((other) => other === role).length + 1;
      members.push({
        role,
        index,
        port: BASE_PORT + slot,
        dataDir: join(STATE_DIR, 'run', `${role}-${index}`),
        log: join(STATE_DIR, 'run', `${role}-${index}.log`),
        child: null,
      });
    });
    // The first one creates the topic (and runs the migrations) before the others race for it.
    await launch(members[0]!);
    await Promise.all(members.slice(1).map(launch));
  }, 900_000);

  afterAll(async () => {
    closing = true;
    for (const member of members) if (member.child) member.child.kill('SIGKILL');
    // A broker killed by the run and not restarted would leave the cluster short for the next run: bring it back.
    for (const node of ['1', '2', '3']) await cluster('start-broker', node).catch(() => undefined);
    await db?.destroy();
    await git?.close();
    await gateway?.close();
    await database?.drop();
    if (templatesDir) rmSync(templatesDir, { recursive: true, force: true });
  }, 120_000);

  /** One delivery, retried on the other ingress on a connection error or a 5xx, as a load balancer would. */
  const deliver = async (repo: Repository, sha: string): Promise<Delivery> => {
    const body = pushPayload({
      owner: repo.owner,
      repo: repo.repo,
      sha,
      cloneUrl: git.cloneUrl(repo.owner, repo.repo),
      ownerId: repo.ownerId,
      repositoryId: repo.repositoryId,
    });
    const delivery: Delivery = { deliveryId: randomUUID(), repo, sha, accepted: false, attempts: 0 };
    deliveries.push(delivery);
    const ingress = members.filter((member) => member.role === 'ingress');
    let at = Math.floor(random() * ingress.length);
    while (delivery.attempts < 100) {
      delivery.attempts++;
      const status = await fetch(`http://127.0.0.1:${ingress[at]!.port}/webhooks/github`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': delivery.deliveryId,
          'x-hub-signature-256': signPayload(body, secret),
        },
        body,
        signal: AbortSignal.timeout(15_000),
      }).then(
        (response) => response.status,
        () => 0,
      );
      if (status >= 200 && status < 300) {
        delivery.accepted = true;
        break;
      }
      if (status >= 400 && status < 500) break;
      at = (at + 1) % ingress.length;
      await sleep(250);
    }
    return delivery;
  };

  /** Whether a delivery's stack-deploy status has its outcome (or `timeoutMs` passed: the faults may hold it up). */
  const settled = async (deliveryId: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const [row] = await db.query(
        `SELECT count(*)::int AS n FROM events WHERE correlation_id = $1 AND type = 'CommitStatusReported'
            AND data->>'context' = 'stack-deploy' AND data->>'state' <> 'pending'`,
        [deliveryId],
      );
      if (row.n > 0) return;
      await sleep(500);
    }
  };

  /** A repository's pushes, one after another (a newer commit each time), until the faults are over. */
  const pushes = async (repo: Repository, until: () => boolean) => {
    const handlers: Record<string, string> = {};
    for (let commit = 1; commit <= PUSHES && !until(); commit++) {
      // Usually every function changes; now and then only one does, so the others reuse their images.
      const changed = commit === 1 || random() < 0.7 ? functionsOf(repo) : [functionsOf(repo)[Math.floor(random() * 3)]!];
      for (const fn of changed) handlers[fn] = `module.exports = async () => ${JSON.stringify(`${fn} at commit ${commit}`)};\n`;
      const files: RepoFiles = {
        'stack.yml': stack(repo),
        ...Object.fromEntries(Object.entries(handlers).map(([fn, code]) => [`${fn}/handler.js`, code])),
      };
      const sha = git.commit(repo.owner, repo.repo, files, `commit ${commit}`);
      const delivery = await deliver(repo, sha);
      say(
        `push ${repo.repo} #${commit} ${sha.slice(0, 7)}: ${delivery.accepted ? 'accepted' : 'NOT accepted'} after ${delivery.attempts} attempt(s)`,
      );
      // Mostly the next commit comes soon (it supersedes this one's builds); sometimes only once this push has
      // settled, so deploys happen while the faults go on too.
      if (delivery.accepted && random() < 0.4) await settled(delivery.deliveryId, 120_000);
      else await sleep(between(3000, 8000));
    }
  };

  /** Kills one random member of `role` KILLS times, each at a random moment, and starts it again after a random pause. */
  const faults = async (role: Role) => {
    const group = members.filter((member) => member.role === role);
    for (let round = 0; round < KILLS; round++) {
      await sleep(between(2000, 9000));
      const victim = group[Math.floor(random() * group.length)]!;
      await kill(victim);
      kills[role]++;
      await sleep(between(200, 3000));
      await launch(victim);
    }
  };

  const brokerFaults = async () => {
    for (let round = 0; round < KILLS; round++) {
      await sleep(between(2000, 9000));
      const node = String(1 + Math.floor(random() * 3));
      await cluster('kill-broker', node);
      kills.broker++;
      say(`broker ${node} SIGKILLed`);
      await sleep(between(200, 3000));
      await cluster('start-broker', node);
      say(`broker ${node} up`);
    }
  };

  const count = async (sql: string, parameters: unknown[] = []) => Number((await db.query(sql, parameters))[0].n);

  /** What is left to do anywhere ('' when nothing): the outbox, pipeline jobs, subscribers behind a stream's newest event. */
  /**
   * A function of an accepted push that ended with no outcome: what its delivery recorded, what the pipeline queued
   * for it, what the process manager kept and what the members logged of it, so a failed run can be understood.
   */
  const explainUnfinished = async (deliveryId: string, name: string) => {
    const recorded: { position: number; stream: string; version: number; type: string }[] = await db.query(
      `SELECT global_position::int AS position, stream_id AS stream, stream_version AS version, type
         FROM events WHERE correlation_id = $1 ORDER BY global_position`,
      [deliveryId],
    );
    const explain = (line: string) => {
      say(line);
      // scripts/chaos.js prints this file after Jest's own report, where CI's tail shows it.
      appendFileSync(join(STATE_DIR, 'explained.txt'), `${line}\n`);
    };
    explain(`${name} of delivery ${deliveryId} ended with no outcome; the delivery recorded:`);
    for (const event of recorded) explain(`  #${event.position} ${event.stream} v${event.version} ${event.type}`);
    const jobs: { id: string; attempts: number; done: boolean; error: string | null }[] = await db.query(
      `SELECT id, attempts, done_at IS NOT NULL AS done, last_error AS error FROM pipeline_jobs
        WHERE payload->'cause'->>'correlationId' = $1 ORDER BY seq`,
      [deliveryId],
    );
    for (const job of jobs) explain(`  job ${job.id} attempts ${job.attempts} ${job.done ? 'done' : 'open'} ${job.error ?? ''}`);
    const [kept] = await db.query(`SELECT position, state FROM workflow_states WHERE workflow = 'pipeline' AND correlation_id = $1`, [
      deliveryId,
    ]);
    say(
      `  process manager at #${kept?.position}: ${JSON.stringify(kept?.state?.functions?.map((fn: { spec: { name: string }; outcome: string }) => [fn.spec.name, fn.outcome]))}`,
    );
    for (const member of members) {
      const lines = readFileSync(member.log, 'utf8')
        .split('\n')
        .filter((line) => line.includes(deliveryId) || line.includes(name) || line.includes('jumped'));
      for (const line of lines.slice(-20)) explain(`  ${member.role}-${member.index}: ${line.slice(0, 400)}`);
    }
  };

  const pending = async () => {
    const outbox = await count(`SELECT count(*) AS n FROM outbox`);
    const jobs = await count(`SELECT count(*) AS n FROM pipeline_jobs WHERE done_at IS NULL`);
    const behind = await count(
      `SELECT count(*) AS n FROM (SELECT stream_id, max(stream_version) AS version FROM events GROUP BY stream_id) e
         CROSS JOIN (VALUES ('projector:read-models'), ('pipeline.process')) AS s(subscriber)
         LEFT JOIN subscription_streams applied ON applied.subscriber = s.subscriber AND applied.stream_id = e.stream_id
        WHERE applied.version IS NULL OR applied.version < e.version`,
    );
    return outbox + jobs + behind === 0 ? '' : `outbox ${outbox}, pipeline jobs ${jobs}, subscriber streams behind ${behind}`;
  };

  it('ends every accepted push as the domain says, with every event once, every deploy once and read models equal to a replay', async () => {
    let faulting = true;
    const streams = repositories.map((repo) => pushes(repo, () => !faulting));
    await Promise.all([brokerFaults(), faults('ingress'), faults('pipeline'), faults('projector')]);
    faulting = false;
    await Promise.all(streams);
    const faultsOver = Date.now();

    // Quiet twice in a row, a few seconds apart: a job can be between its event and its row.
    say('faults over, pushes stopped: waiting for quiet');
    let quietFor = 0;
    let lastSaid = 0;
    await eventually(
      async () => {
        const left = await pending();
        quietFor = left === '' ? quietFor + 1 : 0;
        if (left !== '' && Date.now() - lastSaid > 10_000) {
          lastSaid = Date.now();
          say(`not quiet yet: ${left}`);
        }
        if (quietFor < 3) await sleep(1000);
        return quietFor >= 3;
      },
      600_000,
      'the pipeline and the read models to settle',
    );

    say('quiet: checking');
    // The log the faults were survivable on: every partition on the three brokers, an acks=all write needing two.
    const admin = new Kafka({ brokers: env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const [topic] = (await admin.fetchTopicMetadata({ topics: [env.KAFKA_TOPIC!] })).topics;
      expect(new Set(topic!.partitions.map((partition) => partition.replicas.length))).toEqual(new Set([3]));
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: env.KAFKA_TOPIC!, configNames: ['min.insync.replicas'] }],
      });
      expect(resources[0]!.configEntries.find((entry) => entry.configName === 'min.insync.replicas')?.configValue).toBe('2');
    } finally {
      await admin.disconnect();
    }

    const accepted = deliveries.filter((delivery) => delivery.accepted);
    const events: { position: number; stream: string; type: string; correlation: string; data: Record<string, string> }[] = await db.query(
      `SELECT global_position::int AS position, stream_id AS stream, type, correlation_id AS correlation, data FROM events ORDER BY global_position`,
    );

    // The store: positions 1..N, one each.
    expect(events.map((event) => event.position)).toEqual(events.map((_, i) => i + 1));

    // Each accepted delivery recorded once; nothing recorded twice in any delivery.
    const received = events.filter((event) => event.type === 'PushReceived');
    for (const delivery of accepted)
      expect([delivery.deliveryId, received.filter((e) => e.correlation === delivery.deliveryId).length]).toEqual([delivery.deliveryId, 1]);
    const seen = new Map<string, number>();
    for (const event of events) {
      const key = `${event.correlation} ${event.stream} ${event.type} ${JSON.stringify(event.data)}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    expect([...seen].filter(([, times]) => times > 1)).toEqual([]);

    // Each function of each accepted push: deployed once, or not deployed because a newer push on the branch superseded it.
    const outcome = (name: string, sha: string) =>
      events
        .filter((e) => e.data.name === name && e.data.sha === sha)
        .filter((e) => ['FunctionDeployed', 'BuildSuperseded', 'BuildFailed', 'DeployFailed', 'FunctionRejected'].includes(e.type))
        .map((e) => e.type)
        .sort()
        .join(',');
    const expected: string[] = [];
    const actual: string[] = [];
    for (const delivery of accepted)
      for (const fn of functionsOf(delivery.repo)) {
        const name = `${delivery.repo.owner}-${fn}`;
        const got = outcome(name, delivery.sha);
        expected.push(`${name}@${delivery.sha.slice(0, 7)} ${got === 'BuildSuperseded' ? 'BuildSuperseded' : 'FunctionDeployed'}`);
        actual.push(`${name}@${delivery.sha.slice(0, 7)} ${got}`);
        if (got === '') await explainUnfinished(delivery.deliveryId, name);
      }
    expect(actual).toEqual(expected);

    // Every deploy the gateway was sent: a FunctionDeployed of a function that was not running unchanged already.
    const sentToGateway = events.filter((e) => e.type === 'FunctionDeployed' && !e.data.alreadyRunning);

    // The newest push of every repository is what runs: nothing newer can supersede it.
    for (const repo of repositories) {
      const newest = [...received].reverse().find((e) => e.data.repo === repo.repo)!;
      for (const fn of functionsOf(repo)) {
        const name = `${repo.owner}-${fn}`;
        expect([name, outcome(name, newest.data.sha!)]).toEqual([name, 'FunctionDeployed']);
        // A function the newest push left unchanged keeps running as its last real deploy made it (alreadyRunning).
        const runs = events.find((e) => e.type === 'FunctionDeployed' && e.data.name === name && e.data.sha === newest.data.sha)!;
        const lastSent = sentToGateway.filter((e) => e.data.name === name).at(-1)!;
        expect([name, gateway.functions.get(name)?.image, gateway.functions.get(name)?.labels]).toEqual([
          name,
          runs.data.image,
          expect.objectContaining({ 'com.openfaas.cloud.git-sha': lastSent.data.sha }),
        ]);
        expect([name, lastSent.data.image]).toEqual([name, runs.data.image]);
      }
    }

    // The gateway: one deploy per FunctionDeployed sent to it, never the same image of the same commit twice to one function.
    const deployKey = (service: string, image: string, sha: string | undefined) => `${service} ${image} ${sha}`;
    const onGateway = gateway.deploys.map((d) => deployKey(d.service, d.image, d.labels['com.openfaas.cloud.git-sha']));
    expect(onGateway.filter((key, i) => onGateway.indexOf(key) !== i)).toEqual([]);
    const recorded = sentToGateway.map((e) => deployKey(e.data.name!, e.data.image!, e.data.sha));
    expect([...onGateway].sort()).toEqual([...recorded].sort());

    // The read side: every event in the audit trail once, and the read models equal a clean replay of the store.
    const [audit] = await db.query(`SELECT count(*)::int AS n, count(DISTINCT position)::int AS distinct FROM read_audit`);
    expect(audit).toEqual({ n: events.length, distinct: events.length });
    const live = await readModelChecksum(db, 'live');
    const report = await new ReadModelReplayer(db, 'kafka', silentLogger).replay('admin:chaos');
    expect(report).toMatchObject({ status: 'done', eventsProcessed: events.length, checksumBefore: live });
    expect(report.checksumAfter).toBe(live);

    const deployed = events.filter((e) => e.type === 'FunctionDeployed').length;
    const superseded = events.filter((e) => e.type === 'BuildSuperseded').length;
    console.log(
      [
        `chaos: CHAOS_SEED=${seed}`,
        `kills: broker ${kills.broker}, ingress ${kills.ingress}, pipeline ${kills.pipeline}, projector ${kills.projector}`,
        `deliveries: ${deliveries.length} sent, ${accepted.length} accepted (${deliveries.reduce((n, d) => n + d.attempts - 1, 0)} retries)`,
        `functions: ${deployed} deployed, ${superseded} superseded; gateway deploys ${gateway.deploys.length}; events ${events.length}`,
        `time: faults ${((faultsOver - started) / 1000).toFixed(0)} s, settled after ${((Date.now() - faultsOver) / 1000).toFixed(0)} s`,
      ].join('\n'),
    );
    expect(Object.values(kills).every((times) => times >= KILLS)).toBe(true);
  }, 1_800_000);
});
