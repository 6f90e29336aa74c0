import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageIndexPath } from '#infra';
import type { EmbeddedGateway } from '../src/embedded-gateway.js';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { buildHandlerImage, systemRequest, testGateway } from './support/test-gateway.js';

const NAME = 'alexellis-crashy';
const IMAGE = 'local/alexellis/fns-crashy:latest-master-abcdef0';
const MISSING_IMAGE = 'local/alexellis/fns-ghost:latest-master-0000000';
// `?crash=1` ends the function's process in the middle of the request, as a handler that crashes does.
const HANDLER = "module.exports = async (event) => { if (event.query.crash) process.exit(3); return 'alive'; };\n";

let work: string;
let dataDir: string;
let gateway: EmbeddedGateway;
let url: string;

const startGateway = async () => {
  gateway = testGateway({ dataDir });
  url = await gateway.start(0);
};
const answer = async (response: Response | Promise<Response>) => {
  const settled = await response;
  return { status: settled.status, text: await settled.text() };
};
const invoke = (query = '') => answer(fetch(`${url}/function/${NAME}${query}`));
const listed = async () =>
  (await (await systemRequest(url, 'GET', '/system/functions')).json()) as { name: string; image: string; availableReplicas: number }[];
const raw = (method: string, path: string, body: string) =>
  answer(
    fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' },
      body,
    }),
  );

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'faasline-gateway-errors-'));
  dataDir = join(work, 'data');
  await buildHandlerImage(work, dataDir, { owner: '1001', name: NAME, image: IMAGE, handler: HANDLER });
  await startGateway();
  expect((await systemRequest(url, 'POST', '/system/functions', { service: NAME, image: IMAGE })).status).toBe(202);
});
afterAll(async () => {
  await gateway?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the embedded gateway when a function fails', () => {
  it('answers 502 naming the function when it crashes mid-request, then serves again once restarted', async () => {
    expect(await invoke()).toEqual({ status: 200, text: 'alive' });
    const crashed = await invoke('?crash=1');
    expect(crashed.status).toBe(502);
    expect(crashed.text).toMatch(new RegExp(`^function ${NAME}: `));
    await eventually(async () => (await invoke()).text === 'alive', 30_000, 'the function to be restarted');
  });

  it('answers 500 with the reason when a new function cannot start, and keeps nothing of it', async () => {
    const refused = await answer(systemRequest(url, 'POST', '/system/functions', { service: 'alexellis-ghost', image: MISSING_IMAGE }));
    expect(refused).toEqual({ status: 500, text: `image ${MISSING_IMAGE} was not built here` });
    expect((await listed()).map((fn) => fn.name)).toEqual([NAME]);
    expect((await systemRequest(url, 'GET', '/system/function/alexellis-ghost')).status).toBe(404);
    expect((await answer(fetch(`${url}/function/alexellis-ghost`))).status).toBe(404);
    // Nothing half-deployed blocks the same deploy once it can start: it is a create again, not "already exists".
    expect(
      (await answer(systemRequest(url, 'PUT', '/system/functions', { service: 'alexellis-ghost', image: MISSING_IMAGE }))).status,
    ).toBe(404);
  });

  it('answers 500 to an update that cannot start, and the running version keeps serving', async () => {
    const refused = await answer(systemRequest(url, 'PUT', '/system/functions', { service: NAME, image: MISSING_IMAGE }));
    expect(refused).toEqual({ status: 500, text: `image ${MISSING_IMAGE} was not built here` });
    expect(await invoke()).toEqual({ status: 200, text: 'alive' });
    expect(await listed()).toEqual([expect.objectContaining({ name: NAME, image: IMAGE, availableReplicas: 1 })]);
  });
});

describe('the embedded gateway’s /system API with a bad request body', () => {
  it('answers 400 to a body that is not JSON, on every route that reads one', async () => {
    for (const [method, path] of [
      ['POST', '/system/functions'],
      ['PUT', '/system/functions'],
      ['DELETE', '/system/functions'],
      ['POST', '/system/secrets'],
    ] as const) {
      expect(await raw(method, path, '{"service": ')).toEqual({ status: 400, text: 'the request body is not JSON' });
    }
  });

  it('answers 400 to a deployment without a usable service or image', async () => {
    for (const body of [
      null,
      {},
      { image: IMAGE },
      { service: NAME },
      { service: 7, image: IMAGE },
      { service: '../etc', image: IMAGE },
      { service: NAME, image: 42 },
    ]) {
      expect(await answer(systemRequest(url, 'POST', '/system/functions', body))).toEqual({
        status: 400,
        text: 'service and image are required',
      });
    }
  });

  it('answers 400 to a delete without a functionName, 404 to one naming no function', async () => {
    for (const body of [{}, { functionName: '' }, { functionName: 3 }, null]) {
      expect(await answer(systemRequest(url, 'DELETE', '/system/functions', body))).toEqual({
        status: 400,
        text: 'functionName is required',
      });
    }
    expect(await answer(systemRequest(url, 'DELETE', '/system/functions', { functionName: 'alexellis-nobody' }))).toEqual({
      status: 404,
      text: 'function alexellis-nobody not found',
    });
  });

  it('answers 400 to a secret without a valid name', async () => {
    for (const body of [{ value: 'x' }, { name: '', value: 'x' }, { name: '../escape', value: 'x' }]) {
      expect(await answer(systemRequest(url, 'POST', '/system/secrets', body))).toEqual({
        status: 400,
        text: 'a secret needs a valid name',
      });
    }
    expect(await (await systemRequest(url, 'GET', '/system/secrets')).json()).toEqual([]);
  });

  it('changed nothing while refusing: the one function still runs as deployed', async () => {
    expect(await listed()).toEqual([expect.objectContaining({ name: NAME, image: IMAGE, availableReplicas: 1 })]);
    expect(await invoke()).toEqual({ status: 200, text: 'alive' });
  });
});

describe('the embedded gateway deploying several functions at once', () => {
  it('deploys and deletes each of them, and keeps the deployments as they end up', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `alexellis-many-${i}`);
    const saved = () =>
      (JSON.parse(readFileSync(join(dataDir, 'gateway', 'deployments.json'), 'utf8')) as { deployment: { service: string } }[])
        .map((entry) => entry.deployment.service)
        .sort();
    const deployed = await Promise.all(
      names.map((service) => answer(systemRequest(url, 'POST', '/system/functions', { service, image: IMAGE }))),
    );
    expect(deployed).toEqual(names.map(() => ({ status: 202, text: '' })));
    expect(saved()).toEqual([NAME, ...names].sort());
    // Deletes save at once, with no start in between: their writes of the state overlap.
    const deleted = await Promise.all(
      names.map((functionName) => answer(systemRequest(url, 'DELETE', '/system/functions', { functionName }))),
    );
    expect(deleted).toEqual(names.map(() => ({ status: 202, text: '' })));
    expect(saved()).toEqual([NAME]);
  }, 60_000);
});

describe('the embedded gateway after a restart', () => {
  it('answers 503 for a deployed function whose image is gone and lists it with no replica available', async () => {
    await gateway.stop();
    rmSync(imageIndexPath(join(dataDir, 'images'), IMAGE));
    await startGateway();
    await eventually(async () => (await listed()).some((fn) => fn.name === NAME), 30_000, 'the deployment to be restored');
    expect(await invoke()).toEqual({ status: 503, text: `function ${NAME} is not ready` });
    expect(await listed()).toEqual([expect.objectContaining({ name: NAME, image: IMAGE, availableReplicas: 0 })]);
  });
});
