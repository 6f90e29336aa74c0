import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { lastStatus, pushCommit, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';

const secret = 'failures-explained-webhook-secret';

const stack = (functions: Record<string, string>) =>
  `provider:\n  name: openfaas\nfunctions:\n${Object.entries(functions)
    .map(([fn, lang]) => `  ${fn}:\n    lang: ${lang}\n    handler: ./${fn}\n    image: ${fn.toLowerCase()}:0.1\n`)
    .join('')}`;
const handler = (fn: string) => ({ [`${fn}/handler.js`]: `module.exports = async () => ${JSON.stringify(`hello from ${fn}`)};\n` });

type Json = Record<string, unknown>;
type List = { items: Json[] };

/**
 * An npm registry that knows no package: every metadata request is answered 404 `{"error":"Not found"}`, as
 * registry.npmjs.org answers for a name nobody published. Builds reach it through the handler's `.npmrc`.
 */
async function emptyNpmRegistry(): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"error":"Not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('failures that explain themselves', () => {
  let world: PipelineWorld;
  let registry: Awaited<ReturnType<typeof emptyNpmRegistry>>;

  beforeAll(async () => {
    registry = await emptyNpmRegistry();
    world = await startPipelineWorld(secret, null);
  });
  afterAll(async () => {
    await world?.close();
    await registry?.close();
  });

  const api = async <T = Json>(path: string): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${world.api.url}${path}`);
    return { status: response.status, body: (await response.json()) as T };
  };
  const settled = (sha: string) =>
    eventually(
      async () => ['success', 'failure'].includes(lastStatus(world, sha, 'stack-deploy')?.state ?? ''),
      110_000,
      `${sha.slice(0, 7)}`,
    );
  const pushOutcome = async (deliveryId: string) => {
    let found: Json | undefined;
    await eventually(
      async () => {
        found = (await api<List>('/api/v1/repos/alexellis/fns/pushes')).body.items.find((item) => item.deliveryId === deliveryId);
        return found !== undefined && found.outcome !== 'pending';
      },
      30_000,
      `the outcome of ${deliveryId}`,
    );
    return found!;
  };
  const functionRow = async (name: string, until: (row: Json) => boolean) => {
    let row: Json | undefined;
    await eventually(
      async () => {
        const answer = await api(`/api/v1/functions/${encodeURIComponent(name)}`);
        row = answer.status === 200 ? answer.body : undefined;
        return row !== undefined && until(row);
      },
      30_000,
      `${name} in the read model`,
    );
    return row!;
  };

  it('lists the languages this server builds, sorted, to anyone', async () => {
    const { status, body } = await api<{ items: { name: string; classic: boolean; template: string }[] }>('/api/v1/languages');
    expect(status).toBe(200);
    const names = body.items.map((item) => item.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['node', 'node18', 'node20', 'node22', 'python', 'python3', 'python3-http']));
    expect(body.items).toEqual(
      expect.arrayContaining([
        { name: 'node22', classic: false, template: 'node-http' },
        { name: 'python3', classic: true, template: 'python3' },
        { name: 'python3-http', classic: false, template: 'python3-http' },
      ]),
    );
  });

  it('lists a function refused at source as failed with its reason, names it in the push outcome, and deploys its sibling', async () => {
    const push = await pushCommit(world, secret, {
      'stack.yml': stack({ fn1: 'node20', fn2: 'cobol', Bad_Fn: 'node20' }),
      ...handler('fn1'),
      ...handler('fn2'),
      ...handler('Bad_Fn'),
    });
    await settled(push.sha);

    const good = await functionRow('alexellis-fn1', (row) => row.status === 'ready');
    expect(good).toMatchObject({ status: 'ready', reason: null, sha: push.sha });

    const cobol = await functionRow('alexellis-fn2', (row) => row.status === 'failed');
    expect(cobol).toMatchObject({ owner: 'alexellis', repo: 'fns', function: 'fn2', sha: push.sha, branch: 'master', image: null });
    expect(cobol.reason).toMatch(
      /^fn2: unknown language "cobol" \(available: node, node18, node20, node22, python, python3, python3-http\)$/,
    );
    const { body: builds } = await api<List>('/api/v1/functions/alexellis-fn2/builds');
    expect(builds.items).toEqual([
      expect.objectContaining({ status: 'failed', sha: push.sha, image: null, reason: `rejected at source: ${String(cobol.reason)}` }),
    ]);

    // A stack key that makes no service name is listed under the key as written, percent-encoded where it must be.
    const badName = await functionRow('alexellis-Bad_Fn', (row) => row.status === 'failed');
    expect(badName).toMatchObject({
      function: 'Bad_Fn',
      reason: expect.stringMatching(/^Bad_Fn: function name "alexellis-Bad_Fn" must be/),
    });
    const { body: all } = await api<List>('/api/v1/functions?owner=alexellis&repo=fns');
    expect(all.items.map((item) => [item.name, item.status])).toEqual([
      ['alexellis-Bad_Fn', 'failed'],
      ['alexellis-fn1', 'ready'],
      ['alexellis-fn2', 'failed'],
    ]);

    const stackStatus = lastStatus(world, push.sha, 'stack-deploy')!;
    expect(stackStatus.state).toBe('failure');
    expect(stackStatus.description!.length).toBeLessThanOrEqual(140);
    expect(stackStatus.description).toMatch(/^2 of 3 function\(s\) failed: fn2: unknown language "cobol" \(.*; Bad_Fn: function name/);
    const outcome = await pushOutcome(push.deliveryId);
    expect(outcome).toMatchObject({ outcome: 'failed' });
    expect(outcome.reason).toBe(`2 of 3 function(s) failed: ${String(cobol.reason)}; ${String(badName.reason)}`);
  });

  it('builds and deploys a refused function normally once a later push fixes it', async () => {
    const push = await pushCommit(world, secret, {
      'stack.yml': stack({ fn1: 'node20', fn2: 'node20' }),
      ...handler('fn1'),
      ...handler('fn2'),
    });
    await settled(push.sha);
    expect(lastStatus(world, push.sha, 'stack-deploy')).toMatchObject({ state: 'success' });
    expect(await functionRow('alexellis-fn2', (row) => row.status === 'ready')).toMatchObject({ reason: null, sha: push.sha });
    const { body: builds } = await api<List>('/api/v1/functions/alexellis-fn2/builds');
    expect(builds.items.map((build) => build.status)).toEqual(['succeeded', 'failed']);
    expect(await pushOutcome(push.deliveryId)).toMatchObject({ outcome: 'deployed', reason: null });
  });

  it('records npm’s 404 line for a dependency no registry has, not where npm wrote its log', async () => {
    const push = await pushCommit(world, secret, {
      'stack.yml': stack({ fn3: 'node20' }),
      ...handler('fn3'),
      'fn3/package.json': JSON.stringify({ name: 'fn3', version: '1.0.0', dependencies: { 'nope-not-a-package': '1.0.0' } }),
      'fn3/.npmrc': `registry=${registry.url}\n`,
    });
    await settled(push.sha);
    expect(registry.requests).toContain('GET /nope-not-a-package');
    const failed = await functionRow('alexellis-fn3', (row) => row.status === 'failed');
    const line = `npm error 404 Not Found - GET ${registry.url}nope-not-a-package - Not found`;
    expect(failed.reason).toBe(`build failed: npm install failed: ${line}`);
    const { body: builds } = await api<List>('/api/v1/functions/alexellis-fn3/builds');
    expect(builds.items[0]).toMatchObject({ status: 'failed', reason: `npm install failed: ${line}` });
    expect(lastStatus(world, push.sha, 'alexellis-fn3')!.description).toBe(`build failed: npm install failed: ${line}`.slice(0, 140));
    const outcome = await pushOutcome(push.deliveryId);
    expect(outcome.reason).toBe(`1 of 1 function(s) failed: fn3: build failed: npm install failed: ${line}`);
    expect(JSON.stringify([failed, builds, outcome])).not.toMatch(/complete log of this run|_logs/);
  });
});
