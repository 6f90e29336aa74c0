import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalBuilder, openSandbox, type Sandbox } from '#infra';
import { buildRequestFor, buildToEnd, packageHandler } from '../../../test/support/build-context.js';
import { buildHandlerImage, callFunction, systemRequest, TEST_GATEWAY_AUTH, testGateway } from './support/test-gateway.js';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import type { EmbeddedGateway } from '../src/embedded-gateway.js';

const templates = fileURLToPath(new URL('../../../templates', import.meta.url));
const installation = fileURLToPath(new URL('../../..', import.meta.url));

/** One handler that tries every escape it is asked to, and says what happened. */
const HANDLER = `
const fs = require('fs')
const { spawn } = require('child_process')
module.exports = async (event, context) => {
  const attempt = (fn) => { try { return { ok: true, value: fn() } } catch (error) { return { ok: false, error: error.code || error.message } } }
  const q = event.query
  switch (q.attack) {
    case 'whoami': return context.status(200).succeed({ uid: process.getuid(), pids: fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)) })
    case 'read': return context.status(200).succeed(attempt(() => fs.readFileSync(q.path, 'utf8')))
    case 'list': return context.status(200).succeed(attempt(() => fs.readdirSync(q.path)))
    case 'write': return context.status(200).succeed(attempt(() => fs.writeFileSync(q.path, 'owned')))
    case 'buffers': { const kept = []; for (;;) { const b = Buffer.alloc(8 * 1024 * 1024); b.fill(1); kept.push(b) } }
    case 'forkbomb': spawn('/bin/sh', ['-c', 'f() { f | f & }; f'], { detached: true, stdio: 'ignore' }).unref(); return context.status(200).succeed({ started: true })
    case 'sleeper': spawn('/bin/sh', ['-c', 'sleep 300 & sleep 300'], { detached: true, stdio: 'ignore' }).unref(); return context.status(200).succeed({ started: true })
    default: return context.status(200).succeed({ hello: 'world' })
  }
}
`;

let work: string;
let dataDir: string;
let sandbox: Sandbox;
let gateway: EmbeddedGateway;
let url: string;
const image = 'local/tenant/attacker:latest';

const system = (method: string, path: string, body?: unknown) => systemRequest(url, method, path, body);
const call = (name: string, query: string) => callFunction(url, name, query);
const deploy = async (service: string, secrets: string[], memory = '128Mi') => {
  const response = await system('POST', '/system/functions', { service, image, envProcess: 'node index.js', secrets, limits: { memory } });
  expect(response.status).toBe(202);
};
/** Processes whose real uid is `uid`, anywhere on the machine. */
const processesOf = (uid: number) =>
  readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        return new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    });

beforeAll(async () => {
  // DATA_DIR inside a folder other users cannot enter, as /root or any mktemp -d when faasline runs as root.
  work = mkdtempSync(join(tmpdir(), 'faasline-sandbox-'));
  expect(statSync(work).mode & 0o777).toBe(0o700);
  dataDir = join(work, 'data');
  const detection = await openSandbox({ mode: 'required', uidBase: 63000 });
  sandbox = detection.sandbox!;
  await buildHandlerImage(work, dataDir, { owner: '1001', name: 'tenant-attacker', image, handler: HANDLER }, sandbox);
  gateway = testGateway({
    dataDir,
    sandbox,
    timeoutMs: 20_000,
  });
  url = await gateway.start(0);
  expect((await system('POST', '/system/secrets', { name: 'alice-key', value: 'alice-secret' })).status).toBe(201);
  expect((await system('POST', '/system/secrets', { name: 'bob-key', value: 'bob-secret' })).status).toBe(201);
  await deploy('alice-fn', ['alice-key']);
  await deploy('bob-fn', ['bob-key']);
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('a sandboxed function (bubblewrap, DATA_DIR in a 0700 folder)', () => {
  it('runs as an unprivileged uid and sees only its own pid namespace', async () => {
    const { body } = await call('alice-fn', 'attack=whoami');
    expect(body!.uid).toBeGreaterThanOrEqual(63001);
    expect((body!.pids as string[]).length).toBeLessThanOrEqual(3);
    expect(body!.pids).not.toContain(String(process.pid));
  });

  it('reads its own secret at /var/openfaas/secrets, and nothing else of the gateway', async () => {
    expect((await call('alice-fn', 'attack=read&path=/var/openfaas/secrets/alice-key')).body).toEqual({ ok: true, value: 'alice-secret' });
    expect((await call('alice-fn', 'attack=list&path=/var/openfaas/secrets')).body!.value).not.toContain('bob-key');
    const bobDirs = readdirSync(join(dataDir, 'gateway', 'functions', 'bob-fn'));
    for (const path of [
      join(dataDir, 'gateway', 'secrets', 'alice-key'),
      join(dataDir, 'gateway', 'secrets', 'bob-key'),
      join(dataDir, 'gateway', 'functions', 'bob-fn', bobDirs[0]!, 'secrets', 'bob-key'),
      join(dataDir, 'gateway', 'deployments.json'),
      `/proc/${process.pid}/environ`,
      join(installation, 'package.json'),
    ]) {
      expect({ path, result: (await call('alice-fn', `attack=read&path=${encodeURIComponent(path)}`)).body }).toEqual({
        path,
        result: { ok: false, error: 'ENOENT' },
      });
    }
    expect((await call('alice-fn', `attack=list&path=${encodeURIComponent(dataDir)}`)).body).toEqual({ ok: false, error: 'ENOENT' });
  });

  it('cannot write its own code, nor its secrets', async () => {
    expect((await call('alice-fn', 'attack=write&path=/home/app/index.js')).body).toEqual({ ok: false, error: 'EROFS' });
    expect((await call('alice-fn', 'attack=write&path=/var/openfaas/secrets/alice-key')).body).toEqual({ ok: false, error: 'EROFS' });
    expect((await call('alice-fn', 'attack=write&path=/tmp/scratch')).body).toEqual({ ok: true });
  });

  it('is killed past its memory limit with Buffers (not only the heap); the gateway keeps answering and restarts it', async () => {
    await deploy('hog-fn', [], '96Mi');
    const started = Date.now();
    const { status } = await call('hog-fn', 'attack=buffers');
    expect(status).toBe(502);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await call('bob-fn', 'attack=whoami')).status).toBe(200);
    await eventually(async () => (await call('hog-fn', 'attack=whoami')).status === 200, 20_000, 'hog-fn restarted');
  }, 60_000);

  it('contains a fork bomb: the server and other functions keep answering, and removing it ends every process', async () => {
    await deploy('bomb-fn', []);
    const { uid } = (await call('bomb-fn', 'attack=whoami')).body as { uid: number };
    expect((await call('bomb-fn', 'attack=forkbomb')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(processesOf(uid).length).toBeLessThanOrEqual(128);
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      expect((await call('bob-fn', 'attack=whoami')).status).toBe(200);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2000);
    }
    expect((await system('DELETE', '/system/functions', { functionName: 'bomb-fn' })).status).toBe(202);
    await eventually(() => processesOf(uid).length === 0, 5000, `no process of uid ${uid} left`);
  }, 60_000);

  it('stopping a function ends its whole process tree, detached children included', async () => {
    await deploy('sleeper-fn', []);
    const { uid } = (await call('sleeper-fn', 'attack=whoami')).body as { uid: number };
    expect((await call('sleeper-fn', 'attack=sleeper')).status).toBe(200);
    await eventually(() => processesOf(uid).length >= 3, 5000, 'the sleepers started');
    expect((await system('DELETE', '/system/functions', { functionName: 'sleeper-fn' })).status).toBe(202);
    await eventually(() => processesOf(uid).length === 0, 5000, `no process of uid ${uid} left`);
  }, 30_000);

  it('stays stopped when a later start on the same DATA_DIR has no sandbox: a tenant never runs bare', async () => {
    const bare = testGateway({
      dataDir,
      sandbox: null,
    });
    const bareUrl = await bare.start(0);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const status = (await (
        await fetch(`${bareUrl}/system/function/alice-fn`, { headers: { authorization: TEST_GATEWAY_AUTH } })
      ).json()) as { availableReplicas: number };
      expect(status.availableReplicas).toBe(0);
      expect((await fetch(`${bareUrl}/function/alice-fn`)).status).toBe(503);
    } finally {
      await bare.stop();
    }
  }, 30_000);
});

describe('a sandboxed build step', () => {
  it('runs unprivileged and cannot read DATA_DIR; what it wrote is handed back to root and readable by functions', async () => {
    const secretFolder = join(dataDir, 'secrets', 'leak');
    mkdirSync(secretFolder, { recursive: true });
    writeFileSync(join(secretFolder, 'package.json'), '{"name":"leak","version":"1.0.0"}');
    const repo = join(work, 'with-deps');
    mkdirSync(join(repo, 'fn', 'lib'), { recursive: true });
    writeFileSync(join(repo, 'fn', 'handler.js'), 'module.exports = async () => require("lib")\n');
    writeFileSync(join(repo, 'fn', 'lib', 'package.json'), '{"name":"lib","version":"1.0.0"}');
    writeFileSync(join(repo, 'fn', 'package.json'), JSON.stringify({ name: 'fn', version: '1.0.0', dependencies: { lib: 'file:./lib' } }));
    const context = await packageHandler({ repoDir: repo, templateRoot: templates, cacheDir: join(work, 'templates') });
    await buildToEnd(
      new LocalBuilder(join(dataDir, 'images'), join(dataDir, 'npm-cache'), {}, sandbox),
      buildRequestFor(context, { buildId: 'b2', owner: '1001', name: 'tenant-deps', image: 'local/tenant/deps:1' }),
    );
    // npm wrote the lock file as the build uid; the folder was given back to root, readable by everyone.
    const lock = statSync(join(dataDir, 'images', context.digest.replace(':', '-'), 'context', 'function', 'package-lock.json'));
    expect(lock.uid).toBe(0);
    expect(lock.mode & 0o044).toBe(0o044);

    const probe = sandbox.spawn({
      program: '/bin/sh',
      args: [
        '-c',
        `id -u; cat ${join(dataDir, 'secrets', 'leak', 'package.json')} 2>&1; ls ${dataDir} 2>&1; /usr/bin/unshare --user --map-root-user true 2>&1 || echo no user namespace`,
      ],
      cwd: '/',
      env: {},
      mounts: [],
      limits: { memoryBytes: 64 * 2 ** 20, cpus: 1, pids: 16, fileSizeBytes: 2 ** 20 },
      role: 'build',
    });
    let output = '';
    probe.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((resolve) => probe.once('exit', resolve));
    const [uid, ...rest] = output.trim().split('\n');
    expect(Number(uid)).toBe(63000);
    expect(rest.join('\n')).toMatch(/No such file/);
    expect(rest.join('\n')).not.toContain('"leak"');
    expect(rest.join('\n')).toContain('no user namespace');
  }, 60_000);
});

describe('the CPU quota', () => {
  it('holds a busy loop to its share once the start-up boost is over', async () => {
    const child = sandbox.spawn({
      program: '/bin/sh',
      args: ['-c', 'echo uid $(id -u); while :; do :; done'],
      cwd: '/',
      env: {},
      mounts: [],
      limits: { memoryBytes: 64 * 2 ** 20, cpus: 0.2, pids: 8, fileSizeBytes: 2 ** 20, startup: { cpus: 2, ms: 300 } },
      role: 'function',
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(() => /uid \d+/.test(output), 5000, 'the loop started');
    const uid = Number(/uid (\d+)/.exec(output)![1]);
    /** CPU seconds used so far by the loop (utime + stime of the uid's processes). */
    const cpuSeconds = () =>
      processesOf(uid).reduce((sum, pid) => {
        try {
          const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
          return sum + (Number(fields[11]) + Number(fields[12])) / 100;
        } catch {
          return sum;
        }
      }, 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = cpuSeconds();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const used = cpuSeconds() - before;
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // 0.2 of a core for 2 s is 0.4 s; unthrottled it would be about 2 s.
    expect(used).toBeGreaterThan(0.2);
    expect(used).toBeLessThan(0.7);
  }, 30_000);
});

describe('without cgroups (rlimits only)', () => {
  let limited: Sandbox;
  beforeAll(async () => {
    limited = (await openSandbox({ mode: 'required', uidBase: 63500, limits: 'rlimits' })).sandbox!;
    expect(limited.description).toContain('rlimits');
  });
  const run = (script: string, limits: { memoryBytes: number; pids: number }) => {
    const child = limited.spawn({
      program: '/bin/sh',
      args: ['-c', script],
      cwd: '/',
      env: {},
      mounts: [],
      limits: { cpus: 1, fileSizeBytes: 2 ** 20, ...limits },
      role: 'function',
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return { child, output: () => output, exited: new Promise((resolve) => child.once('exit', resolve)) };
  };

  it('holds node to its memory with Buffers', async () => {
    const hog = run(
      `/usr/bin/node -e "let mb = 0; const kept = []; try { for (;;) { const b = Buffer.alloc(8 << 20); b.fill(1); kept.push(b); mb += 8 } } catch { console.log('held at ' + mb + ' MB') }"`,
      { memoryBytes: 256 * 2 ** 20, pids: 64 },
    );
    await hog.exited;
    const held = /held at (\d+) MB/.exec(hog.output());
    // Either node refused the allocation below the limit, or it was stopped outright.
    if (held) expect(Number(held[1])).toBeLessThan(256);
    else expect(hog.child.exitCode).not.toBe(0);
  }, 30_000);

  it('contains a fork bomb to its process count, and stopping it ends the tree', async () => {
    const bomb = run('echo uid $(id -u); f() { f | f & }; f; sleep 60', { memoryBytes: 256 * 2 ** 20, pids: 32 });
    await eventually(() => /uid \d+/.test(bomb.output()), 5000, 'the bomb started');
    const uid = Number(/uid (\d+)/.exec(bomb.output())![1]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(processesOf(uid).length).toBeLessThanOrEqual(32);
    bomb.child.kill('SIGTERM');
    await bomb.exited;
    await eventually(() => processesOf(uid).length === 0, 5000, `no process of uid ${uid} left`);
  }, 30_000);
});
