import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { installationOf, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';
import { deliverCommit } from './support/spawn-api.js';

const secret = 'fair-builds-webhook-secret';
const stack = (owner: string, functions: string[]) =>
  `provider:\n  name: openfaas\nfunctions:\n${functions.map((fn) => `  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: ${owner}/${fn}:0.1\n`).join('')}`;
/** A handler whose install asks the slow registry for a package named after it: the request marks when its build runs. */
const handler = (fn: string, dependency: string) => ({
  [`${fn}/handler.js`]: `module.exports = async () => ${JSON.stringify(fn)};\n`,
  [`${fn}/package.json`]: JSON.stringify({ name: fn, version: '1.0.0', dependencies: { [dependency]: '1.0.0' } }),
});

/**
 * Two tenants on the default BUILD_CONCURRENCY=2 (so MAX_BUILDS_PER_OWNER=1): one pushes three builds, the other
 * one. The npm registry holds every request for a package until the test releases it, so a build holds its slot
 * exactly as long as the test says, whatever this machine's speed.
 */
describe('fair share: build slots across owners', () => {
  let world: PipelineWorld;
  let registry: Server;
  /** Packages asked for, in the order first asked; a package's requests wait until it is released. */
  const asked: string[] = [];
  const released = new Map<string, () => void>();
  const gates = new Map<string, Promise<void>>();
  const gate = (name: string) => {
    if (!gates.has(name)) gates.set(name, new Promise<void>((resolve) => released.set(name, resolve)));
    return gates.get(name)!;
  };
  const release = (name: string) => {
    void gate(name);
    released.get(name)!();
  };
  const askedBy = (owner: string) => asked.filter((name) => name.startsWith(`slow-${owner}-`));

  beforeAll(async () => {
    registry = createServer((request, response) => {
      const name = decodeURIComponent((request.url ?? '/').slice(1)).split('/')[0]!;
      if (!asked.includes(name)) asked.push(name);
      void gate(name).then(() => response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}'));
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
    const files = {
      'stack.yml': stack(owner, functions),
      ...Object.assign({}, ...functions.map((fn) => handler(fn, `slow-${owner}-${fn}`))),
    };
    const sha = world.git.commit(owner, 'fns', files);
    await deliverCommit(world.api.url, secret, world.git, { owner, repo: 'fns', sha, installationId: installationOf(owner) });
    return sha;
  };
  const settled = (owner: string, sha: string) =>
    eventually(
      async () =>
        world.github.statuses.some((s) => s.owner === owner && s.sha === sha && s.context === 'stack-deploy' && s.state !== 'pending'),
      90_000,
      `${owner} settled`,
    );

  it("starts another owner's build before one owner's second finishes, and one owner never builds two at once", async () => {
    const aSha = await push('alice', ['a1', 'a2', 'a3']);
    await eventually(async () => askedBy('alice').length === 1, 60_000, "alice's first build");
    const bSha = await push('bob', ['b1']);
    // Bob did not wait for Alice's queue: his build runs while her first is still held.
    await eventually(async () => askedBy('bob').length === 1, 60_000, "bob's build");
    expect(askedBy('alice')).toHaveLength(1);
    release('slow-bob-b1');
    await settled('bob', bSha);
    // Alice's builds take turns: each asks the registry only after the one before it had its answer.
    for (let turn = 1; turn <= 3; turn++) {
      await eventually(async () => askedBy('alice').length === turn, 60_000, `alice's build ${turn}`);
      release(askedBy('alice')[turn - 1]!);
    }
    await settled('alice', aSha);
    expect(askedBy('alice')).toHaveLength(3);
    expect(asked.filter((name) => name.startsWith('slow-'))).toHaveLength(4);
  });
});
