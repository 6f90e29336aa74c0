#!/usr/bin/env node
// `npm run chaos`: build, start a three-broker Kafka cluster (deploy/local/kafka-cluster.sh on ports 42092..42097),
// run the fault-injection test (apps/api/test/chaos) against it and the machine's Postgres, and stop the cluster
// whatever happens. CHAOS_SEED=<n> replays one run's schedule of pushes and kills.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cluster = join(root, 'deploy/local/kafka-cluster.sh');
const stateDir = process.env.CHAOS_STATE_DIR ?? join(root, '.cache', 'chaos');
const env = {
  ...process.env,
  CHAOS_STATE_DIR: stateDir,
  KAFKA_CLUSTER_BASE_PORT: process.env.KAFKA_CLUSTER_BASE_PORT ?? '42092',
  KAFKA_CLUSTER_STATE_DIR: join(stateDir, 'kafka'),
  KAFKAJS_NO_PARTITIONER_WARNING: '1',
};
// The tests' Postgres: CI's DATABASE_URL, else the machine's server; each run makes its own throwaway database.
env.TEST_PG_URL ??= env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const run = (command, args) => execFileSync(command, args, { cwd: root, env, stdio: 'inherit' });
run(process.execPath, ['node_modules/typescript/bin/tsc', '-b']);

const stopCluster = () => spawnSync('bash', [cluster, 'stop'], { cwd: root, env, stdio: 'inherit' });
// A cluster from an earlier, aborted run would carry its topics and groups: start from empty storage every time.
stopCluster();
rmSync(stateDir, { recursive: true, force: true });
mkdirSync(stateDir, { recursive: true });

let jest = null;
let stopping = false;
/** The faasline processes the test started (their pid files), if any outlived it: only those, checked by command line. */
const endLeftovers = () => {
  const runDir = join(stateDir, 'run');
  if (!existsSync(runDir)) return;
  for (const file of readdirSync(runDir).filter((name) => name.endsWith('.pid'))) {
    const pid = Number(readFileSync(join(runDir, file), 'utf8'));
    // Gone already (no /proc entry), or the pid now belongs to something else: leave it.
    const command = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
    if (command.includes('faasline-server.js')) process.kill(pid, 'SIGKILL');
  }
};
const finish = (code) => {
  if (stopping) return;
  stopping = true;
  endLeftovers();
  stopCluster();
  process.exit(code);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    // Jest's afterAll kills the faasline processes; give it the signal, the cluster is stopped once it exits.
    if (jest && jest.exitCode === null) jest.kill(signal);
    else finish(1);
  });
}

const started = spawnSync('bash', [cluster, 'start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
if (started.status !== 0) finish(1);
env.KAFKA_BROKERS = started.stdout
  .toString()
  .trim()
  .split('\n')
  .at(-1)
  .replace(/^KAFKA_BROKERS=/, '');

jest = spawn(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--disable-warning=ExperimentalWarning',
    'node_modules/jest/bin/jest.js',
    '--config',
    'jest.chaos.config.js',
    '--runInBand',
    ...process.argv.slice(2),
  ],
  { cwd: root, env, stdio: 'inherit' },
);
jest.once('exit', (code, signal) => {
  // What the test found out about a push that ended unfinished, after Jest's report so a log's tail shows it.
  const explained = join(stateDir, 'explained.txt');
  if (existsSync(explained)) process.stderr.write(`\nchaos: unfinished pushes explained:\n${readFileSync(explained, 'utf8')}`);
  finish(code ?? (signal ? 1 : 0));
});
