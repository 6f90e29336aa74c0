import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { functionDeployment, type FunctionSpec } from '#domain';
import { GatewayClient, GatewayError, LocalBuilder, shrinkwrap, silentLogger, TemplateRegistry } from '#infra';
import { EmbeddedGateway } from '../src/embedded-gateway.js';
import { schemaViolation, startFakeGateway, type FakeGateway } from '../../../test/support/fake-openfaas.js';

const templates = fileURLToPath(new URL('../../../templates', import.meta.url));
let work: string;
let fake: FakeGateway;
let embedded: EmbeddedGateway;
let embeddedUrl: string;

const spec: FunctionSpec = {
  function: 'echo', name: 'alexellis-echo', lang: 'node20', handler: 'echo', image: 'local/alexellis/fns-echo:latest-master-abcdef0', fprocess: 'node index.js',
  contextDigest: '', contextBytes: 0, buildArgs: {}, environment: { mode: 'contract' }, labels: {}, annotations: {}, secrets: [], limits: {}, requests: {},
  readOnlyRootFilesystem: true, constraints: [],
};
const push = { deliveryId: 'd', owner: 'alexellis', repo: 'fns', branch: 'master', sha: 'a'.repeat(40), installationId: null, pushSequence: 1, private: false, ownerId: 1, repositoryId: 2, cloneUrl: 'https://github.com/alexellis/fns.git' };

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'faasline-gateway-contract-'));
  fake = await startFakeGateway('admin', 'pw');
  // The embedded gateway runs what the local builder built: build the image it will be asked to deploy.
  const repo = join(work, 'repo');
  mkdirSync(join(repo, 'echo'), { recursive: true });
  writeFileSync(join(repo, 'echo', 'handler.js'), 'module.exports = async (event) => ({ echo: event.body, mode: process.env.mode })\n');
  const template = (await new TemplateRegistry({ roots: [templates], cacheDir: work, gitAllowedHosts: [], fetchTimeoutMs: 1000 }).builtins()).get('node20')!;
  const context = await shrinkwrap({ repoDir: repo, handler: 'echo', template, copy: [], buildArgs: {}, limits: { maxBytes: 1e7, maxFiles: 1000 } });
  await new LocalBuilder(join(work, 'images'), join(work, 'npm-cache')).build(
    { buildId: 'b', owner: '1001', name: spec.name, lang: 'node20', image: spec.image, contextDigest: context.digest, archive: context.archive, buildArgs: {}, contextUrl: '' },
    () => undefined,
    new AbortController().signal,
  );
  embedded = new EmbeddedGateway({ dataDir: join(work, 'data'), imagesDir: join(work, 'images'), user: 'admin', password: 'pw', logger: silentLogger });
  embeddedUrl = await embedded.start(0);
});
afterAll(async () => {
  await fake.close();
  await embedded.stop();
  rmSync(work, { recursive: true, force: true });
});

const gateways = [
  { name: 'strict fake gateway (OpenAPI-validated)', url: () => fake.url },
  { name: 'embedded gateway', url: () => embeddedUrl },
];

describe.each(gateways)('the deployer against the $name', (gateway) => {
  const client = () => new GatewayClient({ url: gateway.url(), user: 'admin', password: 'pw' });

  it('creates with POST after a PUT 404, then updates with PUT', async () => {
    expect(await client().deploy(functionDeployment(spec, push, spec.image, new Date()))).toBe('created');
    expect(await client().deploy(functionDeployment({ ...spec, environment: { mode: 'updated' } }, push, spec.image, new Date()))).toBe('updated');
    const listed = (await client().list()).find((fn) => fn.name === spec.name)!;
    expect(listed).toMatchObject({ name: spec.name, image: spec.image, labels: expect.objectContaining({ 'com.openfaas.cloud.git-owner': 'alexellis' }) });
  });

  it('lists secrets and removes a function, a missing one included', async () => {
    expect(await client().secretNames()).toEqual(new Set());
    await client().remove(spec.name);
    expect((await client().list()).map((fn) => fn.name)).not.toContain(spec.name);
    await expect(client().remove(spec.name)).resolves.toBeUndefined();
  });

  it('refuses wrong credentials with a message naming the settings', async () => {
    const wrong = new GatewayClient({ url: gateway.url(), user: 'admin', password: 'nope' });
    await expect(wrong.list()).rejects.toThrow(GatewayError);
    await expect(wrong.list()).rejects.toThrow(/OPENFAAS_USER\/OPENFAAS_PASSWORD/);
  });
});

describe('embedded gateway', () => {
  it('answers /function/<name> with the deployed handler, and GET /system/logs as ndjson', async () => {
    const client = new GatewayClient({ url: embeddedUrl, user: 'admin', password: 'pw' });
    await client.deploy(functionDeployment(spec, push, spec.image, new Date()));
    const answer = await fetch(`${embeddedUrl}/function/${spec.name}/any/path?x=1`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'ping' });
    expect(await answer.json()).toEqual({ echo: 'ping', mode: 'contract' });
    const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };
    const listed = (await (await fetch(`${embeddedUrl}/system/functions`, { headers: auth })).json()) as unknown[];
    expect(listed.map((status) => schemaViolation(status, 'FunctionStatus'))).toEqual([null]);
    expect(schemaViolation(await (await fetch(`${embeddedUrl}/system/function/${spec.name}`, { headers: auth })).json(), 'FunctionStatus')).toBeNull();
    expect(schemaViolation(await (await fetch(`${embeddedUrl}/system/info`, { headers: auth })).json(), 'GatewayInfo')).toBeNull();
    const logs = await fetch(`${embeddedUrl}/system/logs?name=${spec.name}`, { headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` } });
    expect(logs.headers.get('content-type')).toBe('application/x-ndjson');
    expect((await fetch(`${embeddedUrl}/function/nobody`)).status).toBe(404);
    await client.remove(spec.name);
  });

  it('after a request timed out, an update still drains the requests in flight on the old version', async () => {
    const repo = join(work, 'slow-repo');
    mkdirSync(join(repo, 'slow'), { recursive: true });
    writeFileSync(join(repo, 'slow', 'handler.js'), 'module.exports = async (event) => { await new Promise((r) => setTimeout(r, Number(event.query.ms))); return "slept " + event.query.ms }\n');
    const template = (await new TemplateRegistry({ roots: [templates], cacheDir: work, gitAllowedHosts: [], fetchTimeoutMs: 1000 }).builtins()).get('node20')!;
    const context = await shrinkwrap({ repoDir: repo, handler: 'slow', template, copy: [], buildArgs: {}, limits: { maxBytes: 1e7, maxFiles: 1000 } });
    const slow = { ...spec, function: 'slow', name: 'alexellis-slow', image: 'local/alexellis/fns-slow:latest-master-abcdef0' };
    await new LocalBuilder(join(work, 'images'), join(work, 'npm-cache')).build(
      { buildId: 'b2', owner: '1001', name: slow.name, lang: 'node20', image: slow.image, contextDigest: context.digest, archive: context.archive, buildArgs: {}, contextUrl: '' },
      () => undefined,
      new AbortController().signal,
    );
    const gateway = new EmbeddedGateway({ dataDir: join(work, 'data-timeout'), imagesDir: join(work, 'images'), user: 'admin', password: 'pw', logger: silentLogger, timeoutMs: 1000 });
    const url = await gateway.start(0);
    try {
      const client = new GatewayClient({ url, user: 'admin', password: 'pw' });
      await client.deploy(functionDeployment(slow, push, slow.image, new Date()));
      expect((await fetch(`${url}/function/${slow.name}?ms=3000`)).status).toBe(504);
      const inFlight = fetch(`${url}/function/${slow.name}?ms=800`).then(async (response) => `${response.status} ${await response.text()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await client.deploy(functionDeployment({ ...slow, environment: { mode: 'next' } }, push, slow.image, new Date()));
      expect(await inFlight).toBe('200 slept 800');
    } finally {
      await gateway.stop();
    }
  });
});
