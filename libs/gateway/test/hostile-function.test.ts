import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSandbox, type Sandbox } from '#infra';
import { buildHandlerImage, callFunction, systemRequest, testGateway } from './support/test-gateway.js';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import type { EmbeddedGateway } from '../src/embedded-gateway.js';
import { FunctionProcess, type LogLine } from '../src/function-process.js';
import { listenersIn } from '../src/port-listeners.js';
import { freePort } from '../../../test/support/free-port.js';

/**
 * A tenant's function that attacks the gateway itself: it squats another function's port, floods its output, or
 * just exits; and says who it is (its uid) so a test knows who answered.
 */
const HANDLER = `
const fs = require('fs')
const { spawn } = require('child_process')
const GRAB = \`
const http = require('http'); const fs = require('fs');
const port = Number(process.argv[1]);
function attempt() {
  const server = http.createServer((req, res) => { fs.appendFileSync('/tmp/stolen.log', req.method + ' ' + req.url + '\\\\n'); res.end('HIJACKED') });
  server.once('error', () => setTimeout(attempt, 2));
  server.listen(port, '127.0.0.1', () => fs.writeFileSync('/tmp/grabbed', String(port)));
}
attempt();
\`
const FLOOD = {
  nonl: 'const b = ("x".repeat(999) + "\\u20ac").repeat(64);',
  lines: 'const b = "y\\\\n".repeat(32768);',
}
module.exports = async (event, context) => {
  const q = event.query
  switch (q.attack) {
    case 'whoami': return context.status(200).succeed({ uid: process.getuid() })
    case 'exit': setTimeout(() => process.exit(1), 50); return context.status(200).succeed({ exiting: true })
    case 'squat': spawn('/usr/bin/node', ['-e', GRAB, q.port], { detached: true, stdio: 'ignore' }).unref(); return context.status(200).succeed({ squatting: Number(q.port) })
    case 'read': try { return context.status(200).succeed({ ok: true, value: fs.readFileSync(q.path, 'utf8') }) } catch (error) { return context.status(200).succeed({ ok: false, error: error.code }) }
    case 'flood': {
      const script = FLOOD[q.mode] + 'const end = Date.now() + ' + Number(q.ms) + '; (function w() { while (Date.now() < end) { if (!process.stdout.write(b)) return process.stdout.once("drain", w) } process.exit(0) })()'
      spawn('/usr/bin/node', ['-e', script], { stdio: ['ignore', 'inherit', 'inherit'] })
      return context.status(200).succeed({ flooding: q.mode })
    }
    // A newline first: it ends whatever line an ended writer left unfinished.
    case 'say': process.stdout.write('\\n' + q.text + '\\n'); return context.status(200).succeed({ said: q.text })
    default: return context.status(200).succeed({ hello: 'world' })
  }
}
`;

let work: string;
let dataDir: string;
let sandbox: Sandbox;
let gateway: EmbeddedGateway;
let url: string;
const image = 'local/tenant/hostile:latest';

const system = (method: string, path: string, body?: unknown) => systemRequest(url, method, path, body);
const call = (name: string, query: string, timeoutMs?: number) => callFunction(url, name, query, timeoutMs);
const deploy = async (service: string) =>
  expect(
    (await system('POST', '/system/functions', { service, image, envProcess: 'node index.js', limits: { memory: '128Mi' } })).status,
  ).toBe(202);
const uidOf = async (name: string) => (await call(name, 'attack=whoami')).body!.uid as number;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The loopback ports `uid` listens on, as the kernel says. */
const portsOf = (uid: number) =>
  ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((path) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .slice(1)
      .map((row) => row.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A' && Number(fields[7]) === uid)
      .map((fields) => Number.parseInt(fields[1]!.split(':')[1]!, 16)),
  );
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'faasline-hostile-fn-'));
  dataDir = join(work, 'data');
  // uids of this file's own: a function of another test file's sandbox never shares one with these.
  sandbox = (await openSandbox({ mode: 'required', uidBase: 64100 })).sandbox!;
  await buildHandlerImage(work, dataDir, { owner: 'tenant', name: 'tenant-hostile', image, handler: HANDLER }, sandbox);
  gateway = testGateway({
    dataDir,
    sandbox,
    timeoutMs: 20_000,
  });
  url = await gateway.start(0);
  await deploy('victim-fn');
  await deploy('squatter-fn');
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('a function that squats another function’s port (functions share the host network)', () => {
  it('never receives the other function’s traffic while that one restarts: it is 503 until it runs on a fresh, verified port', async () => {
    const victimUid = await uidOf('victim-fn');
    const squatterUid = await uidOf('squatter-fn');
    const [port] = portsOf(victimUid);
    expect(port).toBeGreaterThan(0);
    expect((await call('squatter-fn', `attack=squat&port=${port}`)).status).toBe(200);
    expect((await call('victim-fn', 'attack=exit')).status).toBe(200);
    // The squatter takes the port within milliseconds of the victim's exit.
    await eventually(
      async () => (await call('squatter-fn', 'attack=read&path=/tmp/grabbed')).body!.value === String(port),
      5000,
      'the squatter holds the old port',
    );

    const answers: string[] = [];
    let restarted = false;
    const deadline = Date.now() + 20_000;
    while (!restarted && Date.now() < deadline) {
      const { status, text, body } = await call('victim-fn', 'attack=whoami');
      answers.push(`${status} ${text}`);
      if (status === 200) {
        expect(body?.uid).not.toBe(squatterUid);
        expect(body?.uid).toBeGreaterThanOrEqual(64101);
        restarted = true;
      } else {
        expect({ status, text }).toEqual({ status: 503, text: 'function victim-fn is restarting' });
      }
      await sleep(50);
    }
    expect(restarted).toBe(true);
    expect(answers.join('\n')).not.toContain('HIJACKED');
    expect((await call('squatter-fn', 'attack=read&path=/tmp/stolen.log')).body).toEqual({ ok: false, error: 'ENOENT' });
    // The squatter still holds the old port: the victim moved.
    expect(portsOf(squatterUid)).toContain(port);
  }, 60_000);

  it.each([
    ['answers its health check', "require('http').createServer((req, res) => res.end('squatter'))"],
    ['holds it without answering', "require('net').createServer(() => {})"],
  ])(
    'an instance whose port another uid already listens on (%s) is not started there: it moves to another port',
    async (_, server) => {
      const app = join(work, 'app');
      mkdirSync(join(app, 'secrets'), { recursive: true, mode: 0o755 });
      writeFileSync(
        join(app, 'index.js'),
        "require('http').createServer((req, res) => res.end('the real one')).listen(Number(process.env.PORT), '127.0.0.1')\n",
      );
      const taken = await freePort();
      // Another tenant already listens on the port the instance is given.
      const squatter = sandbox.spawn({
        program: '/usr/bin/node',
        args: ['-e', `${server}.listen(${taken}, '127.0.0.1')`],
        cwd: '/',
        env: {},
        mounts: [],
        limits: { memoryBytes: 128 * 2 ** 20, cpus: 1, pids: 16, fileSizeBytes: 2 ** 20 },
        role: 'function',
      });
      // Listened for from the start: a squatter that already ended (its port taken meanwhile) must not hang the test.
      const squatterExited = new Promise((resolve) => squatter.once('exit', resolve));
      try {
        await eventually(() => listenersIn(readFileSync('/proc/net/tcp', 'utf8'), taken).length > 0, 10_000, 'the squatter listens');
        expect(listenersIn(readFileSync('/proc/net/tcp', 'utf8'), taken)).toEqual([{ address: '0100007F', uid: squatter.uid }]);
        const ports = [taken];
        const logged: LogLine[] = [];
        const fn = new FunctionProcess({
          name: 'moved',
          cwd: app,
          command: 'node index.js',
          env: {},
          memoryBytes: null,
          secretsDir: join(app, 'secrets'),
          sandbox,
          onLog: (line) => logged.push(line),
          choosePort: async () => ports.shift() ?? (await freePort()),
        });
        await fn.start();
        try {
          expect(ports).toEqual([]);
          expect(fn.port).not.toBe(taken);
          expect(fn.ready).toBe(true);
          expect(await (await fetch(`http://127.0.0.1:${fn.port}/`)).text()).toBe('the real one');
          expect(logged.map((line) => line.text)).toContain(`port ${taken} is taken by another uid: starting again on another port`);
        } finally {
          await fn.stop();
        }
      } finally {
        squatter.kill('SIGKILL');
        await squatterExited;
      }
    },
    60_000,
  );
});

describe('a function that floods its output', () => {
  it('keeps the server’s memory bounded and other functions answering; its recent lines stay readable', async () => {
    await deploy('flood-fn');
    const before = process.memoryUsage().rss;
    let peak = before;
    const slowest: number[] = [];
    expect((await call('flood-fn', 'attack=flood&mode=nonl&ms=5000')).status).toBe(200);
    await sleep(1000);
    expect((await call('flood-fn', 'attack=flood&mode=lines&ms=4000')).status).toBe(200);
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      const started = Date.now();
      const { status } = await call('victim-fn', 'attack=whoami', 5000);
      expect(status).toBe(200);
      slowest.push(Date.now() - started);
      peak = Math.max(peak, process.memoryUsage().rss);
      await sleep(200);
    }
    expect(Math.max(...slowest)).toBeLessThan(1000);
    expect(peak - before).toBeLessThan(300 * 2 ** 20);

    expect((await call('flood-fn', 'attack=say&text=after-the-flood')).status).toBe(200);
    await sleep(1200);
    const response = await system('GET', '/system/logs?name=flood-fn&tail=100000');
    expect(response.status).toBe(200);
    const rows = (await response.text())
      .trim()
      .split('\n')
      .map((row) => JSON.parse(row) as LogLine);
    const texts = rows.map((row) => row.text);
    expect(texts).toContain('after-the-flood');
    expect(texts.some((text) => /^… \d+ lines dropped/.test(text))).toBe(true);
    expect(texts.some((text) => text.startsWith('xxx') && text.endsWith('…(cut at 16384 bytes)'))).toBe(true);
    expect(Math.max(...texts.map((text) => Buffer.byteLength(text)))).toBeLessThanOrEqual(16 * 1024 + 64);
  }, 60_000);
});

describe('a gateway started after one that was killed', () => {
  it('removes instance folders no running deployment uses (secret copies) and folders of deleted functions', async () => {
    await gateway.stop();
    const functions = join(dataDir, 'gateway', 'functions');
    const old = readdirSync(join(functions, 'victim-fn'));
    expect(old.length).toBeGreaterThan(0);
    mkdirSync(join(functions, 'deleted-fn', 'abandoned', 'secrets'), { recursive: true });
    writeFileSync(join(functions, 'deleted-fn', 'abandoned', 'secrets', 'key'), 'old secret');
    mkdirSync(join(functions, 'victim-fn', 'abandoned', 'secrets'), { recursive: true });
    writeFileSync(join(functions, 'victim-fn', 'abandoned', 'secrets', 'key'), 'old secret');

    gateway = testGateway({
      dataDir,
      sandbox,
      timeoutMs: 20_000,
    });
    url = await gateway.start(0);
    await eventually(async () => (await call('victim-fn', 'attack=whoami')).status === 200, 30_000, 'victim-fn started again');
    expect(existsSync(join(functions, 'deleted-fn'))).toBe(false);
    const now = readdirSync(join(functions, 'victim-fn'));
    expect(now).toHaveLength(1);
    for (const leftover of [...old, 'abandoned']) expect(now).not.toContain(leftover);
  }, 60_000);
});
