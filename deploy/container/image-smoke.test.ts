import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createScratchDatabase, type ScratchDatabase } from '../../scripts/throwaway-postgres.js';
import { eventually } from '../../libs/infra/test/support/backbones.js';
import { gitFixtures, type GitFixtures } from '../../test/support/git-repos.js';
import { deliverPush } from '../../test/support/github-payloads.js';

/**
 * The image as users get it, built and run for real: podman/buildah from Debian, no registry. The base is a local
 * stand-in for node:20-bookworm-slim (deploy/container/local-base.sh) passed as NODE_IMAGE; every container runs with
 * a read-only root, its writable paths on a volume (/data) and a tmpfs (/tmp), against a real Postgres and Kafka.
 * Asynchronous child processes throughout: the git server the pushes clone from runs in this process.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);
const runId = randomUUID().slice(0, 8);
// One tag, replaced by every run and never removed: its layers are the cache that keeps a warm run quick.
const image = 'localhost/faasline:smoke';
const secret = 'image-smoke-webhook-secret';
// The server a throwaway database is made on for this run (CI names its own; else this machine's Debian PostgreSQL).
const postgresServer = process.env.TEST_PG_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const topic = `faasline.image.${runId}`;
// This machine lacks CAP_SYS_RESOURCE (raising rlimits fails) and crun cannot drive its hybrid cgroups.
const engineFlags = ['--runtime', 'runc', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];

const podman = async (args: string[], timeout = 120_000) => (await run('podman', args, { cwd: root, timeout, maxBuffer: 64 << 20 })).stdout;

/** Streams a long command's output into the test log only when it fails. */
function runLoud(command: string, args: string[], timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output.slice(-6000)}`));
    });
  });
}

type Role = 'all' | 'ingress' | 'pipeline' | 'projector';
const started: string[] = [];

/** Runs one role of the image detached, the way an orchestrator would: read-only root, writable /data and /tmp. */
async function runRole(role: Role, env: Record<string, string>, options: { argument?: boolean } = {}): Promise<string> {
  const name = `faasline-smoke-${runId}-${role}`;
  const envFlags = Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
  await podman([
    'run',
    '--detach',
    '--name',
    name,
    ...engineFlags,
    '--network=host',
    '--read-only',
    '--tmpfs',
    '/tmp:rw,mode=1777',
    '--volume',
    `${name}:/data`,
    ...envFlags,
    // The role by argument or by FAASLINE_ROLE: both are how the one entrypoint is told.
    ...(options.argument ? [image, role] : ['--env', `FAASLINE_ROLE=${role}`, image]),
  ]);
  started.push(name);
  return name;
}

const logsOf = async (name: string) => {
  const { stdout, stderr } = await run('podman', ['logs', name], { maxBuffer: 64 << 20 }).catch(
    (error: { stdout?: string; stderr?: string }) => ({
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
  return `${stdout}${stderr}`;
};

const isRunning = async (name: string) => (await podman(['inspect', '--format', '{{.State.Running}}', name])).trim() === 'true';

/** Polls an HTTP probe until it answers 200, or the container exits; its log explains a failure. */
async function waitReady(name: string, url: string): Promise<void> {
  const ready = async () => {
    if ((await fetch(url).catch(() => null))?.status === 200) return true;
    if (!(await isRunning(name))) throw new Error(`${name} exited before ${url} answered`);
    return false;
  };
  await eventually(ready, 120_000, `${url} of ${name}`).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${(await logsOf(name)).slice(-4000)}`);
  });
}

/** SIGTERM, then the exit code once it exits (a bound of 60 s, after which podman itself would SIGKILL: code 137). */
async function terminate(name: string): Promise<{ exitCode: number; stoppedInMs: number }> {
  const before = Date.now();
  await podman(['kill', '--signal', 'TERM', name]);
  const exitCode = Number((await podman(['wait', name], 90_000)).trim());
  return { exitCode, stoppedInMs: Date.now() - before };
}

/** Every process in the container, with its real and effective uid. */
async function uidsIn(name: string): Promise<{ pid: string; uids: string[] }[]> {
  const out = await podman(['exec', name, 'sh', '-c', 'for s in /proc/[0-9]*/status; do grep -H "^Uid:" "$s"; done']);
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const [path, rest] = line.split(':Uid:');
      return { pid: path!.split('/')[2]!, uids: rest!.trim().split(/\s+/) };
    });
}

describe('the container image', () => {
  let database: ScratchDatabase;
  let kafkaBrokers: string;
  let startedKafka = false;
  let git: GitFixtures;
  let commonEnv: Record<string, string>;

  beforeAll(async () => {
    const base = (await runLoud('bash', ['deploy/container/local-base.sh'], 600_000)).trim().split('\n').at(-1)!;
    await runLoud(
      'podman',
      [
        'build',
        ...engineFlags,
        '--network=host',
        '--layers',
        '--build-arg',
        `NODE_IMAGE=${base}`,
        '--file',
        'deploy/container/Dockerfile',
        '--tag',
        image,
        '.',
      ],
      900_000,
    );
    database = await createScratchDatabase(postgresServer, 'image');
    if (process.env.KAFKA_BROKERS) kafkaBrokers = process.env.KAFKA_BROKERS;
    else {
      const output = await runLoud('bash', ['deploy/local/kafka.sh', 'start'], 180_000);
      kafkaBrokers = output
        .trim()
        .split('\n')
        .at(-1)!
        .replace(/^KAFKA_BROKERS=/, '');
      startedKafka = true;
    }
    git = await gitFixtures();
    commonEnv = {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: kafkaBrokers,
      KAFKA_TOPIC: topic,
      GITHUB_WEBHOOK_SECRET: secret,
      GIT_ALLOWED_HOSTS: new URL(git.server.url).host,
      // No sandbox inside the container (no bubblewrap, no user namespaces): only listed owners build and run.
      CUSTOMERS: 'imagesmoke',
    };
  }, 1_500_000);

  afterAll(async () => {
    for (const name of started) {
      await run('podman', ['rm', '--force', '--time', '0', name]).catch(() => undefined);
      await run('podman', ['volume', 'rm', '--force', name]).catch(() => undefined);
    }
    await git?.close();
    await database?.drop();
    if (startedKafka) await runLoud('bash', ['deploy/local/kafka.sh', 'stop'], 60_000).catch(() => undefined);
  }, 180_000);

  it('runs the all role as uid 10001 on a read-only root, takes a signed push and serves the function', async () => {
    const name = await runRole('all', { ...commonEnv, PORT: '41080', GATEWAY_PORT: '41081' });
    await waitReady(name, 'http://127.0.0.1:41080/readyz');
    expect(await (await fetch('http://127.0.0.1:41080/readyz')).json()).toEqual({ status: 'ok', checks: { database: 'ok', log: 'ok' } });
    expect(await (await fetch('http://127.0.0.1:41080/healthz')).json()).toEqual({ status: 'ok' });

    // tini as PID 1, node under it, and whatever exec adds: not one of them root.
    const processes = await uidsIn(name);
    expect(processes.length).toBeGreaterThanOrEqual(2);
    for (const proc of processes) expect(proc).toEqual({ pid: proc.pid, uids: Array(4).fill('10001') });
    const written = await run('podman', ['exec', name, 'sh', '-c', 'touch /app/probe']).catch((error: { stderr: string }) => error.stderr);
    expect(written).toContain('Read-only file system');
    // What it needed to write went to /data: the secrets it generated at first start.
    expect((await podman(['exec', name, 'ls', '/data/secrets'])).split('\n')).toEqual(
      expect.arrayContaining(['admin-token', 'links-secret']),
    );

    const sha = git.commit('imagesmoke', 'box', {
      'stack.yml': 'provider:\n  name: openfaas\nfunctions:\n  hello:\n    lang: node20\n    handler: ./hello\n    image: hello\n',
      'hello/handler.js':
        "module.exports = async (event, context) => context.status(200).succeed('Hello from the image, ' + (event.query.name || 'world'))\n",
    });
    const { status } = await deliverPush('http://127.0.0.1:41080', secret, {
      owner: 'imagesmoke',
      repo: 'box',
      sha,
      cloneUrl: git.cloneUrl('imagesmoke', 'box'),
    });
    expect(status).toBe(202);
    const call = () => fetch('http://127.0.0.1:41081/function/imagesmoke-hello?name=podman').catch(() => null);
    await eventually(async () => (await call())?.status === 200, 180_000, 'the pushed function to answer').catch(async (error: Error) => {
      throw new Error(`${error.message}\n${(await logsOf(name)).slice(-6000)}`);
    });
    expect(await (await call())!.text()).toBe('Hello from the image, podman');

    const stopped = await terminate(name);
    console.log(`all: stopped ${stopped.stoppedInMs} ms after SIGTERM`);
    expect(stopped.exitCode).toBe(0);
    expect(await logsOf(name)).toContain('SIGTERM: stopping');
  }, 600_000);

  it('runs ingress, pipeline and projector side by side, each ready, each stopping on SIGTERM', async () => {
    const roles = {
      ingress: await runRole('ingress', { ...commonEnv, PORT: '41082', GATEWAY_PORT: '41083' }, { argument: true }),
      pipeline: await runRole('pipeline', { ...commonEnv, PORT: '41084', GATEWAY_PORT: '41085' }),
      projector: await runRole('projector', { ...commonEnv, HEALTH_PORT: '41086' }, { argument: true }),
    };
    const probes = { ingress: 41082, pipeline: 41084, projector: 41086 };
    for (const [role, name] of Object.entries(roles))
      await waitReady(name, `http://127.0.0.1:${probes[role as keyof typeof probes]}/readyz`);

    const ingressLog = await logsOf(roles.ingress);
    expect(ingressLog).toContain('pipeline: separate process');
    expect(ingressLog).toContain('projector: separate process');
    const pipelineLog = await logsOf(roles.pipeline);
    expect(pipelineLog).toContain('pipeline: in this process');
    expect(pipelineLog).toContain('projector: separate process');
    expect(await logsOf(roles.projector)).toContain('projecting from the kafka log');

    for (const [role, name] of Object.entries(roles)) {
      const stopped = await terminate(name);
      console.log(`${role}: stopped ${stopped.stoppedInMs} ms after SIGTERM`);
      expect({ role, exitCode: stopped.exitCode }).toEqual({ role, exitCode: 0 });
    }
  }, 600_000);

  it('says in one line that DATABASE_URL is needed, since the image carries no embedded PostgreSQL', async () => {
    const result = await run('podman', [
      ...['run', '--rm', ...engineFlags, '--network=host', '--read-only', '--tmpfs', '/tmp'],
      image,
    ]).catch((error: { code: number; stderr: string }) => error);
    expect('code' in result ? result.code : 0).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^faasline: cannot start: configuration error: DATABASE_URL: unset, and the embedded PostgreSQL .* is not installed here/,
      ),
    ]);
  }, 120_000);
});
