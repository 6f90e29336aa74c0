import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmbeddedGateway } from '../src/embedded-gateway.js';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { alive, buildHandlerImage, callFunction, systemRequest, testGateway } from './support/test-gateway.js';

const IMAGE = 'local/alexellis/fns-sleepy:latest-master-abcdef0';
// Each start of a process appends its pid to the function's own STARTS file as the handler loads, and fails to
// load while its BROKEN file exists: how often and whether it started is read from outside the gateway.
const HANDLER = [
  "const fs = require('fs');",
  "if (fs.existsSync(process.env.BROKEN)) throw new Error('broken on purpose');",
  "fs.appendFileSync(process.env.STARTS, process.pid + '\\n');",
  'module.exports = async (event, context) => context.status(200).succeed({ pid: process.pid });',
  '',
].join('\n');

type Status = { name: string; image: string; replicas: number; availableReplicas: number };

let work: string;
let dataDir: string;
let gateway: EmbeddedGateway;
let url: string;

const startsFile = (name: string) => join(work, `${name}.starts`);
const brokenFile = (name: string) => join(work, `${name}.broken`);
const starts = (name: string) =>
  existsSync(startsFile(name)) ? readFileSync(startsFile(name), 'utf8').split('\n').filter(Boolean).map(Number) : [];
const deploy = async (name: string, labels: Record<string, string>, method: 'POST' | 'PUT' = 'POST') =>
  (
    await systemRequest(url, method, '/system/functions', {
      service: name,
      image: IMAGE,
      envVars: { STARTS: startsFile(name), BROKEN: brokenFile(name) },
      labels,
    })
  ).status;
const status = async (name: string) => (await (await systemRequest(url, 'GET', `/system/function/${name}`)).json()) as Status;
const listed = async () => (await (await systemRequest(url, 'GET', '/system/functions')).json()) as Status[];
const pidOf = async (name: string) => {
  const answer = await callFunction(url, name, '');
  expect(answer.status).toBe(200);
  return answer.body!.pid as number;
};
const atZero = (name: string) => eventually(async () => (await status(name)).replicas === 0, 20_000, `${name} scaled to zero`);
const logs = async (name: string) =>
  (await (await systemRequest(url, 'GET', `/system/logs?name=${name}&tail=100`)).text())
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { text: string }).text);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'faasline-scale-to-zero-'));
  dataDir = join(work, 'data');
  await buildHandlerImage(work, dataDir, { owner: '1001', name: 'sleepy', image: IMAGE, handler: HANDLER });
  // An hour unless a label says otherwise: whatever stops within the test was stopped by its own label.
  gateway = testGateway({ dataDir, idleMs: 60 * 60_000 });
  url = await gateway.start(0);
}, 120_000);
afterAll(async () => {
  await gateway?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a function that scales to zero on the embedded gateway', () => {
  it('is started by its deploy, stopped after its idle time (still listed, 0 replicas), and started again by a call', async () => {
    expect(await deploy('quick-fn', { 'com.openfaas.scale.zero-duration': '1s' })).toBe(202);
    const [deployed] = starts('quick-fn');
    expect(deployed).toBeDefined();
    expect(await status('quick-fn')).toMatchObject({ image: IMAGE, replicas: 1, availableReplicas: 1 });
    expect(await pidOf('quick-fn')).toBe(deployed);

    await atZero('quick-fn');
    expect(await status('quick-fn')).toMatchObject({ image: IMAGE, replicas: 0, availableReplicas: 0 });
    expect((await listed()).map((fn) => fn.name)).toContain('quick-fn');
    await eventually(() => !alive(deployed!), 10_000, `pid ${deployed} gone`);
    expect(await logs('quick-fn')).toContain('no call for 1s: stopped (scaled to zero), the next call starts it');

    const woken = await pidOf('quick-fn');
    expect(woken).not.toBe(deployed);
    expect(alive(woken)).toBe(true);
    expect(starts('quick-fn')).toEqual([deployed, woken]);
    expect(await status('quick-fn')).toMatchObject({ replicas: 1, availableReplicas: 1 });
  }, 60_000);

  it('starts once for many calls that arrive while it is stopped, and all of them are answered by that one process', async () => {
    await atZero('quick-fn');
    const before = starts('quick-fn').length;
    const answers = await Promise.all(Array.from({ length: 8 }, () => callFunction(url, 'quick-fn', '')));
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    const pids = new Set(answers.map((answer) => answer.body!.pid));
    expect(pids.size).toBe(1);
    expect(starts('quick-fn').length).toBe(before + 1);
    expect(starts('quick-fn').at(-1)).toBe([...pids][0]);
  }, 60_000);

  it('keeps running with com.openfaas.scale.zero "false", and after its server’s idle time unless a label shortens it', async () => {
    expect(await deploy('pinned-fn', { 'com.openfaas.scale.zero': 'false', 'com.openfaas.scale.zero-duration': '1s' })).toBe(202);
    expect(await deploy('patient-fn', {})).toBe(202);
    expect(await deploy('quick-too-fn', { 'com.openfaas.scale.zero-duration': '1s' })).toBe(202);
    const pinned = await pidOf('pinned-fn');
    const patient = await pidOf('patient-fn');
    // The one with the short label stopping is the proof that time enough passed for the others to stop too.
    await atZero('quick-too-fn');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    for (const [name, pid] of [
      ['pinned-fn', pinned],
      ['patient-fn', patient],
    ] as const) {
      expect(await status(name)).toMatchObject({ replicas: 1, availableReplicas: 1 });
      expect(alive(pid)).toBe(true);
      expect(starts(name)).toEqual([pid]);
    }
  }, 60_000);

  it('answers 503 to a call when it crashes as it starts, says why in its log, and starts once it can', async () => {
    expect(await deploy('fragile-fn', { 'com.openfaas.scale.zero-duration': '1s' })).toBe(202);
    await atZero('fragile-fn');
    writeFileSync(brokenFile('fragile-fn'), '');
    expect(await callFunction(url, 'fragile-fn', '')).toMatchObject({ status: 503, text: 'function fragile-fn is not ready' });
    expect(await logs('fragile-fn')).toContainEqual(
      expect.stringMatching(/^not started for a call: it ended \(exit code 1\) before it was healthy$/),
    );
    expect(await logs('fragile-fn')).toContainEqual(expect.stringContaining('broken on purpose'));
    expect(await status('fragile-fn')).toMatchObject({ replicas: 0, availableReplicas: 0 });
    rmSync(brokenFile('fragile-fn'));
    await eventually(async () => (await callFunction(url, 'fragile-fn', '')).status === 200, 20_000, 'fragile-fn started again');
  }, 60_000);

  it('is started by a new deploy while at zero, which proves the new version starts', async () => {
    await atZero('quick-fn');
    const before = starts('quick-fn').length;
    expect(await deploy('quick-fn', { 'com.openfaas.scale.zero-duration': '1s', changed: 'yes' }, 'PUT')).toBe(202);
    expect(starts('quick-fn').length).toBe(before + 1);
    expect(await status('quick-fn')).toMatchObject({ image: IMAGE, replicas: 1, availableReplicas: 1 });
  }, 60_000);

  it('comes back after a gateway restart stopped, unless it must keep running; the server’s idle time applies', async () => {
    const pinnedStarts = starts('pinned-fn').length;
    const patientStarts = starts('patient-fn').length;
    await gateway.stop();
    gateway = testGateway({ dataDir, idleMs: 1000 });
    url = await gateway.start(0);
    await eventually(async () => (await status('pinned-fn')).availableReplicas === 1, 20_000, 'pinned-fn restarted');
    expect(starts('pinned-fn').length).toBe(pinnedStarts + 1);
    expect(await status('patient-fn')).toMatchObject({ replicas: 0, availableReplicas: 0 });
    expect(starts('patient-fn').length).toBe(patientStarts);
    const woken = await pidOf('patient-fn');
    expect(starts('patient-fn').length).toBe(patientStarts + 1);
    await atZero('patient-fn');
    await eventually(() => !alive(woken), 10_000, `pid ${woken} gone`);
  }, 60_000);
});
