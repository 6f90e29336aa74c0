import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { functionDeployment } from '#domain';
import { GatewayClient, GatewayError, LocalBuilder } from '#infra';
import type { EmbeddedGateway } from '../src/embedded-gateway.js';
import { testGateway } from './support/test-gateway.js';
import { functionSpec, pushContext } from '../../../libs/domain/src/spec-fixtures.js';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { buildRequestFor, buildToEnd, packageHandler } from '../../../test/support/build-context.js';
import { schemaViolation, startFakeGateway, type FakeGateway } from '../../../test/support/fake-openfaas.js';

const templates = fileURLToPath(new URL('../../../templates', import.meta.url));
let work: string;
let fake: FakeGateway;
let embedded: EmbeddedGateway;
let embeddedUrl: string;

const spec = functionSpec('echo', {
  image: 'local/alexellis/fns-echo:latest-master-abcdef0',
  fprocess: 'node index.js',
  contextDigest: '',
  contextBytes: 0,
  environment: { mode: 'contract' },
});
const push = pushContext('a'.repeat(40), { deliveryId: 'd' });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'faasline-gateway-contract-'));
  fake = await startFakeGateway('admin', 'pw');
  // The embedded gateway runs what the local builder built: build the image it will be asked to deploy.
  const repo = join(work, 'repo');
  mkdirSync(join(repo, 'echo'), { recursive: true });
  writeFileSync(
    join(repo, 'echo', 'handler.js'),
    'module.exports = async (event) => { console.log(`echoing ${event.body}`); return { echo: event.body, mode: process.env.mode } }\n',
  );
  const context = await packageHandler({ repoDir: repo, handler: 'echo', templateRoot: templates, cacheDir: work });
  await buildToEnd(
    new LocalBuilder(join(work, 'images'), join(work, 'npm-cache')),
    buildRequestFor(context, { buildId: 'b', owner: '1001', name: spec.name, image: spec.image }),
  );
  embedded = testGateway({
    dataDir: join(work, 'data'),
    imagesDir: join(work, 'images'),
  });
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
    expect(await client().deploy(functionDeployment({ ...spec, environment: { mode: 'updated' } }, push, spec.image, new Date()))).toBe(
      'updated',
    );
    const listed = (await client().list()).find((fn) => fn.name === spec.name)!;
    expect(listed).toMatchObject({
      name: spec.name,
      image: spec.image,
      labels: expect.objectContaining({ 'com.openfaas.cloud.git-owner': 'alexellis' }),
    });
  });

  it('lists secrets and removes a function, a missing one included', async () => {
    expect(await client().secretNames()).toEqual(new Set());
    await client().remove(spec.name);
    expect((await client().list()).map((fn) => fn.name)).not.toContain(spec.name);
    await expect(client().remove(spec.name)).resolves.toBeUndefined();
  });

  it('refuses a deploy naming a secret it does not have with a 400 naming the secret, and deploys nothing', async () => {
    const secretive = { ...spec, name: 'alexellis-secretive', secrets: ['alexellis-missing-key'] };
    const refused = client().deploy(functionDeployment(secretive, push, spec.image, new Date()));
    await expect(refused).rejects.toMatchObject({ status: 400, message: expect.stringContaining('alexellis-missing-key') });
    expect((await client().list()).map((fn) => fn.name)).not.toContain(secretive.name);
  });

  it('reads a deployed function’s available replicas and image, and null for an unknown one', async () => {
    await client().deploy(functionDeployment(spec, push, spec.image, new Date()));
    expect(await client().status(spec.name)).toMatchObject({ name: spec.name, image: spec.image, availableReplicas: 1 });
    expect(await client().status('alexellis-nobody')).toBeNull();
    const logs = await client().logs(spec.name, 10);
    expect(logs.every((line) => typeof line === 'string')).toBe(true);
    await client().remove(spec.name);
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
    const answer = await fetch(`${embeddedUrl}/function/${spec.name}/any/path?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'ping',
    });
    expect(await answer.json()).toEqual({ echo: 'ping', mode: 'contract' });
    const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };
    const listed = (await (await fetch(`${embeddedUrl}/system/functions`, { headers: auth })).json()) as unknown[];
    expect(listed.map((status) => schemaViolation(status, 'FunctionStatus'))).toEqual([null]);
    expect(
      schemaViolation(await (await fetch(`${embeddedUrl}/system/function/${spec.name}`, { headers: auth })).json(), 'FunctionStatus'),
    ).toBeNull();
    expect(schemaViolation(await (await fetch(`${embeddedUrl}/system/info`, { headers: auth })).json(), 'GatewayInfo')).toBeNull();
    // The handler's own line comes back as an OpenFaaS LogEntry of this function, one JSON object per line.
    const logEntries = async () => {
      const logs = await fetch(`${embeddedUrl}/system/logs?name=${spec.name}`, { headers: auth });
      expect(logs.status).toBe(200);
      expect(logs.headers.get('content-type')).toBe('application/x-ndjson');
      const text = await logs.text();
      expect(text.endsWith('\n')).toBe(true);
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    };
    await eventually(async () => (await logEntries()).some((entry) => entry.text === 'echoing ping'), 10_000, 'the handler’s log line');
    const entries = await logEntries();
    expect(entries.map((entry) => schemaViolation(entry, 'LogEntry'))).toEqual(entries.map(() => null));
    expect(entries.every((entry) => entry.name === spec.name && entry.namespace === 'openfaas-fn')).toBe(true);
    expect((await fetch(`${embeddedUrl}/function/nobody`)).status).toBe(404);
    await client.remove(spec.name);
  });

  it('after a request timed out, an update still drains the requests in flight on the old version', async () => {
    const repo = join(work, 'slow-repo');
    mkdirSync(join(repo, 'slow'), { recursive: true });
    // Held requests wait for a file the test writes, and say when they arrived: the test orders events by signals,
    // not by how long anything takes on this machine.
    writeFileSync(
      join(repo, 'slow', 'handler.js'),
      `const fs = require('fs');
module.exports = async (event) => {
  const hold = event.query.hold;
  if (!hold) return 'mode ' + process.env.mode;
  fs.writeFileSync(hold + '.reached', '');
  while (!fs.existsSync(hold + '.released')) await new Promise((r) => setTimeout(r, 10));
  return 'released ' + process.env.mode;
};
`,
    );
    const context = await packageHandler({ repoDir: repo, handler: 'slow', templateRoot: templates, cacheDir: work });
    const slow = { ...spec, function: 'slow', name: 'alexellis-slow', image: 'local/alexellis/fns-slow:latest-master-abcdef0' };
    await buildToEnd(
      new LocalBuilder(join(work, 'images'), join(work, 'npm-cache')),
      buildRequestFor(context, { buildId: 'b2', owner: '1001', name: slow.name, image: slow.image }),
    );
    // The timeout only has to outlast the start of the next version (the in-flight request idles meanwhile); the
    // request that times out is never released, so no work races it.
    const gateway = testGateway({
      dataDir: join(work, 'data-timeout'),
      imagesDir: join(work, 'images'),
      timeoutMs: 8000,
    });
    const url = await gateway.start(0);
    const holds = join(work, 'holds');
    mkdirSync(holds, { recursive: true });
    const hold = (name: string) => ({
      query: `hold=${encodeURIComponent(join(holds, name))}`,
      reached: () => existsSync(join(holds, `${name}.reached`)),
      release: () => writeFileSync(join(holds, `${name}.released`), ''),
    });
    const call = (query: string) =>
      fetch(`${url}/function/${slow.name}?${query}`).then(async (response) => `${response.status} ${await response.text()}`);
    try {
      const client = new GatewayClient({ url, user: 'admin', password: 'pw' });
      await client.deploy(functionDeployment({ ...slow, environment: { mode: 'first' } }, push, slow.image, new Date()));
      const forever = hold('forever');
      expect(await call(forever.query)).toMatch(/^504 function alexellis-slow did not answer within 8s/);
      const inFlight = hold('in-flight');
      const answer = call(inFlight.query);
      await eventually(async () => inFlight.reached(), 30_000, 'the request in flight to reach the old version');
      const update = client.deploy(functionDeployment({ ...slow, environment: { mode: 'next' } }, push, slow.image, new Date()));
      // New requests reach the next version while the old one still holds the request in flight: then release it.
      await eventually(async () => (await call('')) === '200 mode next', 30_000, 'traffic switched to the next version');
      expect(inFlight.reached()).toBe(true);
      inFlight.release();
      expect(await answer).toBe('200 released first');
      await update;
    } finally {
      await gateway.stop();
    }
  });
});

describe('the strict fake gateway, for readiness', () => {
  const client = () => new GatewayClient({ url: fake.url, user: 'admin', password: 'pw' });
  const image = `${spec.image}-broken`;

  it('crash-loops a chosen image: no available replica, and its log lines as NDJSON LogEntry records, the last `tail`', async () => {
    fake.crashLoop(image, ['starting', 'Error: boom', 'exit status 1']);
    await client().deploy(functionDeployment(spec, push, image, new Date()));
    expect(await client().status(spec.name)).toMatchObject({ image, availableReplicas: 0 });
    expect(await client().logs(spec.name, 2)).toEqual(['Error: boom', 'exit status 1']);
    const answer = await fetch(`${fake.url}/system/logs?name=${spec.name}&tail=1`, {
      headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` },
    });
    expect(answer.headers.get('content-type')).toBe('application/x-ndjson');
    const [entry] = (await answer.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(schemaViolation(entry, 'LogEntry')).toBeNull();
    await client().remove(spec.name);
  });

  it('holds a chosen image at 0 replicas for a while, then has one available', async () => {
    const slow = `${spec.image}-slow`;
    fake.holdReplicas(slow, 300);
    await client().deploy(functionDeployment(spec, push, slow, new Date()));
    expect((await client().status(spec.name))!.availableReplicas).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await client().status(spec.name))!.availableReplicas).toBe(1);
    await client().remove(spec.name);
  });
});
