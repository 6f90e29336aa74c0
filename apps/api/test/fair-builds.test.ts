import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { deliverPush } from '../../../test/support/github-payloads.js';
import { INSTALLATION, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';

const secret = 'fair-builds-webhook-secret';
const REGISTRY_DELAY_MS = 1500;
const stack = (owner: string, functions: string[]) =>
  `provider:\n  name: openfaas\nfunctions:\n${functions.map((fn) => `  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: ${owner}/${fn}:0.1\n`).join('')}`;
/** A handler whose install asks the slow registry for a package named after it: the request marks when its build runs. */
const handler = (fn: string, dependency: string) => ({
  [`${fn}/handler.js`]: `module.exports = async () => ${JSON.stringify(fn)};\n`,
  [`${fn}/package.json`]: JSON.stringify({ name: fn, version: '1.0.0', dependencies: { [dependency]: '1.0.0' } }),
});

/**
 * Two tenants on the default BUILD_CONCURRENCY=2 (so MAX_BUILDS_PER_OWNER=1): one pushes three slow builds, the other
 * one. The npm registry answers every request after a delay, so each build holds its slot for a while.
 */
describe('fair share: build slots across owners', () => {
  let world: PipelineWorld;
  let registry: Server;
  const firstAsked = new Map<string, number>();
  const lastAnswered = new Map<string, number>();

  beforeAll(async () => {
    registry = createServer((request, response) => {
      const name = decodeURIComponent((request.url ?? '/').slice(1)).split('/')[0]!;
      if (!firstAsked.has(name)) firstAsked.set(name, Date.now());
      setTimeout(() => {
        lastAnswered.set(name, Date.now());
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      }, REGISTRY_DELAY_MS);
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    const registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`;
    world = await startPipelineWorld(secret, null, { npm_config_registry: registryUrl, npm_config_fetch_retries: '0' });
  });
  afterAll(async () => {
    await world?.close();
    registry?.closeAllConnections();
    await new Promise((resolve) => registry?.close(resolve));
  });

  const push = async (owner: string, functions: string[]) => {
    const files = { 'stack.yml': stack(owner, functions), ...Object.assign({}, ...functions.map((fn) => handler(fn, `slow-${owner}-${fn}`))) };
    const sha = world.git.commit(owner, 'fns', files);
    const { status } = await deliverPush(world.api.url, secret, { owner, repo: 'fns', sha, cloneUrl: world.git.cloneUrl(owner, 'fns'), installationId: INSTALLATION });
    expect(status).toBe(202);
    return sha;
  };
  const settled = (owner: string, sha: string) =>
    eventually(async () => world.github.statuses.some((s) => s.owner === owner && s.sha === sha && s.context === 'stack-deploy' && s.state !== 'pending'), 90_000, `${owner} settled`);

  it("starts another owner's build before one owner's second finishes, and one owner never builds two at once", async () => {
    const aSha = await push('alice', ['a1', 'a2', 'a3']);
    await eventually(async () => [...firstAsked.keys()].some((name) => name.startsWith('slow-alice-')), 60_000, "alice's first build");
    const bSha = await push('bob', ['b1']);
    await settled('alice', aSha);
    await settled('bob', bSha);
    const alice = [...firstAsked.entries()].filter(([name]) => name.startsWith('slow-alice-')).sort((x, y) => x[1] - y[1]);
    expect(alice).toHaveLength(3);
    const bobAsked = firstAsked.get('slow-bob-b1')!;
    expect(bobAsked).toBeDefined();
    // Bob did not wait for Alice's queue: his build ran while her first was still going, not after her second.
    expect(bobAsked).toBeLessThan(lastAnswered.get(alice[1]![0])!);
    expect(bobAsked).toBeLessThan(lastAnswered.get(alice[0]![0])!);
    // Alice's builds took turns: each asked the registry only after the one before it had its answer.
    for (let i = 1; i < alice.length; i++) expect(alice[i]![1]).toBeGreaterThanOrEqual(lastAnswered.get(alice[i - 1]![0])!);
  });
});
