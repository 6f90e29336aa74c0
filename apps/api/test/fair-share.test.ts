import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { imageIndexPath, openDataSource } from '#infra';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { pushCommit, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';

const secret = 'fair-share-webhook-secret';
const stack = (functions: string[]) =>
  `provider:\n  name: openfaas\nfunctions:\n${functions.map((fn) => `  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: alexellis2/${fn}:0.1\n`).join('')}`;
const handler = (fn: string, text: string) => ({ [`${fn}/handler.js`]: `module.exports = async () => ${JSON.stringify(text)};\n` });

describe('fair share: the functions one owner may run (MAX_FUNCTIONS_PER_OWNER=2)', () => {
  let world: PipelineWorld;
  let db: DataSource;
  const dataDir = mkdtempSync(join(tmpdir(), 'faasline-fair-share-'));

  beforeAll(async () => {
    world = await startPipelineWorld(secret, null, { MAX_FUNCTIONS_PER_OWNER: '2', DATA_DIR: dataDir });
    db = await openDataSource(world.database.url);
  });
  afterAll(async () => {
    await db?.destroy();
    await world?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const push = async (files: Record<string, string>) => {
    const { sha, deliveryId } = await pushCommit(world, secret, files);
    await eventually(
      async () => ['success', 'failure'].includes(stackStatus(sha)?.state ?? ''),
      60_000,
      `stack-deploy status for ${sha.slice(0, 7)}`,
    );
    const events: { type: string; data: Record<string, unknown> }[] = await db.query(
      `SELECT type, data FROM events WHERE correlation_id = $1 ORDER BY global_position`,
      [deliveryId],
    );
    return { sha, events };
  };
  const stackStatus = (sha: string) => world.github.statuses.filter((s) => s.sha === sha && s.context === 'stack-deploy').at(-1);
  const names = (events: { type: string; data: Record<string, unknown> }[], type: string) =>
    events
      .filter((e) => e.type === type)
      .map((e) => e.data.name as string)
      .sort();

  it('deploys up to the quota and fails the functions past it with the reason on their status, never reaching the gateway', async () => {
    const { sha, events } = await push({
      'stack.yml': stack(['fn1', 'fn2', 'fn3']),
      ...handler('fn1', 'one'),
      ...handler('fn2', 'two'),
      ...handler('fn3', 'three'),
    });
    expect(names(events, 'FunctionDeployed')).toHaveLength(2);
    const [refused] = names(events, 'DeployFailed');
    expect(refused).toBeDefined();
    expect(world.gateway.functions.has(refused!)).toBe(false);
    expect([...world.gateway.functions.keys()].filter((name) => name.startsWith('alexellis-'))).toHaveLength(2);
    const status = world.github.statuses.find((s) => s.sha === sha && s.context === refused && s.state === 'failure');
    expect(status?.description).toBe(
      'deploy failed: alexellis already runs 2 functions, the most one owner may (MAX_FUNCTIONS_PER_OWNER): remove one first',
    );
    expect(stackStatus(sha)).toMatchObject({ state: 'failure', description: expect.stringMatching(/^1 of 3 function\(s\) failed: /) });
  });

  it('still updates the functions the owner runs, and takes a new one once one is removed', async () => {
    const running = [...world.gateway.functions.keys()]
      .filter((name) => name.startsWith('alexellis-'))
      .map((name) => name.replace('alexellis-', ''))
      .sort();
    const [kept, dropped] = running as [string, string];
    const refused = ['fn1', 'fn2', 'fn3'].find((fn) => !running.includes(fn))!;
    const updated = await push({ 'stack.yml': stack([kept, dropped]), ...handler(kept, 'new'), ...handler(dropped, 'new') });
    expect(names(updated.events, 'FunctionDeployed')).toEqual([`alexellis-${kept}`, `alexellis-${dropped}`].sort());
    expect(stackStatus(updated.sha)?.state).toBe('success');
    // The stack drops one: the garbage collection removes it, and the refused one fits now.
    await push({ 'stack.yml': stack([kept]), ...handler(kept, 'new') });
    await eventually(async () => !world.gateway.functions.has(`alexellis-${dropped}`), 30_000, `alexellis-${dropped} removed`);
    const later = await push({ 'stack.yml': stack([kept, refused]), ...handler(kept, 'new'), ...handler(refused, 'now') });
    expect(names(later.events, 'FunctionDeployed')).toEqual([`alexellis-${kept}`, `alexellis-${refused}`].sort());
    expect(names(later.events, 'DeployFailed')).toEqual([]);
    expect(world.gateway.functions.has(`alexellis-${refused}`)).toBe(true);
  });

  it("queues a push's fetch, builds and deploys as its owner's share, status reports as nobody's", async () => {
    const jobs: { step: string; fair_group: string | null }[] = await db.query(
      `SELECT DISTINCT step, fair_group FROM pipeline_jobs WHERE step IN ('fetch-source', 'build', 'deploy', 'report-status', 'collect-garbage') ORDER BY step`,
    );
    expect(jobs).toEqual([
      { step: 'build', fair_group: 'owner:alexellis' },
      { step: 'collect-garbage', fair_group: null },
      { step: 'deploy', fair_group: 'owner:alexellis' },
      { step: 'fetch-source', fair_group: 'owner:alexellis' },
      { step: 'report-status', fair_group: null },
    ]);
  });

  it('builds an unchanged function again when its image was evicted from disk, instead of reusing what is gone', async () => {
    const running = [...world.gateway.functions.keys()]
      .filter((name) => name.startsWith('alexellis-'))
      .map((name) => name.replace('alexellis-', ''))
      .sort();
    const files = { 'stack.yml': stack(running), ...Object.assign({}, ...running.map((fn) => handler(fn, `evicted ${fn}`))) };
    const first = await push(files);
    const [built] = first.events.filter((e) => e.type === 'BuildSucceeded' || e.type === 'BuildReused');
    const image = built!.data.image as string;
    const folder = readFileSync(imageIndexPath(join(dataDir, 'images'), image), 'utf8').trim();
    // What disk eviction does to an image nothing runs: the folder and its index entry go.
    rmSync(folder, { recursive: true, force: true });
    rmSync(imageIndexPath(join(dataDir, 'images'), image), { force: true });
    const again = await push({ ...files, 'README.md': 'same handlers, another commit' });
    const name = built!.data.name as string;
    expect(again.events.filter((e) => e.data.name === name).map((e) => e.type)).toEqual([
      'BuildStarted',
      'BuildSucceeded',
      'FunctionDeployed',
    ]);
    expect(again.events.filter((e) => e.data.name !== name && e.type.startsWith('Build')).map((e) => e.type)).toEqual(['BuildReused']);
    expect(existsSync(folder)).toBe(true);
  });
});
