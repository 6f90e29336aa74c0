import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { deliverPush } from '../../../test/support/github-payloads.js';
import { INSTALLATION, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';

const secret = 'fair-share-webhook-secret';
const stack = (functions: string[]) =>
  `provider:\n  name: openfaas\nfunctions:\n${functions.map((fn) => `  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: alexellis2/${fn}:0.1\n`).join('')}`;
const handler = (fn: string, text: string) => ({ [`${fn}/handler.js`]: `module.exports = async () => ${JSON.stringify(text)};\n` });

describe('fair share: the functions one owner may run (MAX_FUNCTIONS_PER_OWNER=2)', () => {
  let world: PipelineWorld;
  let db: DataSource;

  beforeAll(async () => {
    world = await startPipelineWorld(secret, null, { MAX_FUNCTIONS_PER_OWNER: '2' });
    db = await openDataSource(world.database.url);
  });
  afterAll(async () => {
    await db?.destroy();
    await world?.close();
  });

  const push = async (files: Record<string, string>) => {
    const sha = world.git.commit('alexellis', 'fns', files);
    const { deliveryId, status } = await deliverPush(world.api.url, secret, { owner: 'alexellis', repo: 'fns', sha, cloneUrl: world.git.cloneUrl('alexellis', 'fns'), installationId: INSTALLATION });
    expect(status).toBe(202);
    await eventually(async () => ['success', 'failure'].includes(stackStatus(sha)?.state ?? ''), 60_000, `stack-deploy status for ${sha.slice(0, 7)}`);
    const events: { type: string; data: Record<string, unknown> }[] = await db.query(`SELECT type, data FROM events WHERE correlation_id = $1 ORDER BY global_position`, [deliveryId]);
    return { sha, events };
  };
  const stackStatus = (sha: string) => world.github.statuses.filter((s) => s.sha === sha && s.context === 'stack-deploy').at(-1);
  const names = (events: { type: string; data: Record<string, unknown> }[], type: string) => events.filter((e) => e.type === type).map((e) => e.data.name as string).sort();

  it('deploys up to the quota and fails the functions past it with the reason on their status, never reaching the gateway', async () => {
    const { sha, events } = await push({ 'stack.yml': stack(['fn1', 'fn2', 'fn3']), ...handler('fn1', 'one'), ...handler('fn2', 'two'), ...handler('fn3', 'three') });
    expect(names(events, 'FunctionDeployed')).toHaveLength(2);
    const [refused] = names(events, 'DeployFailed');
    expect(refused).toBeDefined();
    expect(world.gateway.functions.has(refused!)).toBe(false);
    expect([...world.gateway.functions.keys()].filter((name) => name.startsWith('alexellis-'))).toHaveLength(2);
    const status = world.github.statuses.find((s) => s.sha === sha && s.context === refused && s.state === 'failure');
    expect(status?.description).toBe('deploy failed: alexellis already runs 2 functions, the most one owner may (MAX_FUNCTIONS_PER_OWNER): remove one first');
    expect(stackStatus(sha)).toMatchObject({ state: 'failure', description: '1 of 3 function(s) failed' });
  });

  it('still updates the functions the owner runs, and takes a new one once one is removed', async () => {
    const running = [...world.gateway.functions.keys()].filter((name) => name.startsWith('alexellis-')).map((name) => name.replace('alexellis-', '')).sort();
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
});
