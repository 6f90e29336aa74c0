import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { gitFixtures, writeTemplates, type GitFixtures, type RepoFiles } from '../../../test/support/git-repos.js';
import { startInProcessApi, type InProcessApi } from './support/in-process-api.js';
import { lastStatus, pushCommit, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';
import { deliverCommit } from './support/spawn-api.js';

const secret = 'deploy-failures-webhook-secret';
const FN = 'alexellis-fn1';
/** The deploy step's attempts at a retryable failure (MAX_ATTEMPTS in deploy.step.ts). */
const ATTEMPTS = 5;

const stack = (functions: string) => `provider:\n  name: openfaas\nfunctions:\n${functions}`;
const node = (fn: string) => `  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: ${fn}:0.1\n`;
const files = (text: string): RepoFiles => ({
  'stack.yml': stack(node('fn1')),
  'fn1/handler.js': `module.exports = async () => ${JSON.stringify(text)};\n`,
});

type Failure = { kind: 'none' } | { kind: 'status'; status: number } | { kind: 'unreachable' };
type StoredEvent = { type: string; data: Record<string, unknown> };

/**
 * The strict fake gateway behind a switch: deploys (PUT/POST /system/functions) pass through, answer a status, or
 * find no gateway at all (the connection is dropped, as when nothing listens); every deploy attempt is counted.
 */
async function gatewaySwitch(
  target: () => string,
): Promise<{ url: string; attempts: { method: string }[]; fail: (failure: Failure) => void; close: () => Promise<void> }> {
  const attempts: { method: string }[] = [];
  let failure: Failure = { kind: 'none' };
  const handle = async (request: IncomingMessage, response: ServerResponse, body: Buffer) => {
    const path = new URL(request.url ?? '/', 'http://switch').pathname;
    const deploy = path === '/system/functions' && (request.method === 'PUT' || request.method === 'POST');
    if (deploy) attempts.push({ method: request.method! });
    if (deploy && failure.kind === 'unreachable') return void request.socket.destroy();
    if (deploy && failure.kind === 'status')
      return void response.writeHead(failure.status, { 'content-type': 'text/plain' }).end(`injected ${failure.status}`);
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(([name]) => ['authorization', 'content-type'].includes(name)),
    ) as Record<string, string>;
    const answer = await fetch(`${target()}${request.url}`, { method: request.method, headers, ...(body.length > 0 ? { body } : {}) });
    response
      .writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' })
      .end(Buffer.from(await answer.arrayBuffer()));
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => void handle(request, response, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    attempts,
    fail: (next) => void (failure = next),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('a deploy the gateway refuses or cannot take', () => {
  let world: PipelineWorld;
  let db: DataSource;
  let gateway: Awaited<ReturnType<typeof gatewaySwitch>>;

  beforeAll(async () => {
    gateway = await gatewaySwitch(() => world.gateway.url);
    world = await startPipelineWorld(secret, null, { OPENFAAS_URL: gateway.url });
    db = await openDataSource(world.database.url);
  });
  afterAll(async () => {
    await db?.destroy();
    await world?.close();
    await gateway?.close();
  });

  const push = (repoFiles: RepoFiles) => pushCommit(world, secret, repoFiles);
  const statusOf = (sha: string, context: string) => lastStatus(world, sha, context);
  const settled = (sha: string) =>
    eventually(
      async () =>
        ['success', 'failure'].includes(statusOf(sha, 'stack-deploy')?.state ?? '') &&
        ['success', 'failure'].includes(statusOf(sha, FN)?.state ?? ''),
      110_000,
      `${sha.slice(0, 7)} to settle`,
    );
  const types = async (deliveryId: string) =>
    (
      (await db.query(`SELECT type, data FROM events WHERE correlation_id = $1 ORDER BY global_position`, [deliveryId])) as StoredEvent[]
    ).map((event) => event.type);
  const deployFailure = async (deliveryId: string) =>
    ((await db.query(`SELECT data FROM events WHERE correlation_id = $1 AND type = 'DeployFailed'`, [deliveryId])) as StoredEvent[]).map(
      (event) => event.data.reason,
    );
  /** What a push that did not deploy leaves: a failed build-and-deploy, told on both statuses, and no deploy recorded. */
  const expectNotDeployed = async (push: { sha: string; deliveryId: string }, reason: string) => {
    expect(await deployFailure(push.deliveryId)).toEqual([reason]);
    const recorded = await types(push.deliveryId);
    expect(recorded).toEqual(expect.arrayContaining(['BuildSucceeded', 'DeployFailed']));
    expect(recorded).not.toContain('FunctionDeployed');
    expect(statusOf(push.sha, FN)).toMatchObject({ state: 'failure', description: `deploy failed: ${reason}`.slice(0, 140) });
    expect(statusOf(push.sha, 'stack-deploy')).toMatchObject({
      state: 'failure',
      description: expect.stringMatching(/^1 of 1 function\(s\) failed: fn1: deploy failed: /),
    });
  };

  it('never retries a 4xx: one attempt, a DeployFailed with the answer, and nothing deployed', async () => {
    gateway.fail({ kind: 'status', status: 400 });
    const before = gateway.attempts.length;
    const refused = await push(files('four hundred'));
    await settled(refused.sha);
    expect(gateway.attempts.slice(before)).toEqual([{ method: 'PUT' }]);
    await expectNotDeployed(refused, `deploying ${FN}: gateway answered 400: injected 400`);
    expect(world.gateway.functions.has(FN)).toBe(false);
  }, 120_000);

  it('retries a 5xx up to the last attempt, then records the failure; nothing is half-deployed', async () => {
    gateway.fail({ kind: 'status', status: 503 });
    const before = gateway.attempts.length;
    const failing = await push(files('five hundred'));
    await settled(failing.sha);
    expect(gateway.attempts.slice(before)).toEqual(Array.from({ length: ATTEMPTS }, () => ({ method: 'PUT' })));
    await expectNotDeployed(failing, `deploying ${FN}: gateway answered 503: injected 503`);
    expect(world.gateway.functions.has(FN)).toBe(false);
  }, 120_000);

  it('deploys once the gateway takes it, then keeps that version when an update finds no gateway', async () => {
    gateway.fail({ kind: 'none' });
    const good = await push(files('good'));
    await settled(good.sha);
    expect(statusOf(good.sha, 'stack-deploy')).toMatchObject({ state: 'success' });
    const running = String(world.gateway.functions.get(FN)!.image);
    expect(running).toMatch(new RegExp(`-${good.sha.slice(0, 7)}$`));

    gateway.fail({ kind: 'unreachable' });
    const before = gateway.attempts.length;
    const unreachable = await push(files('unreachable'));
    await settled(unreachable.sha);
    expect(gateway.attempts.slice(before)).toHaveLength(ATTEMPTS);
    const [reason] = await deployFailure(unreachable.deliveryId);
    expect(reason).toMatch(/^OpenFaaS gateway unreachable: /);
    await expectNotDeployed(unreachable, String(reason));
    expect(world.gateway.functions.get(FN)!.image).toBe(running);
  }, 120_000);
});

describe('a deploy with no gateway configured (an api started without OPENFAAS_URL and without the embedded gateway)', () => {
  let api: InProcessApi;
  let git: GitFixtures;
  let templatesDir: string;

  beforeAll(async () => {
    git = await gitFixtures();
    templatesDir = writeTemplates(['node20']);
    api = await startInProcessApi(
      { webhookSecret: secret, withPipeline: true },
      { GIT_ALLOWED_HOSTS: new URL(git.server.url).host, TEMPLATES_DIR: templatesDir, REGISTRY: 'registry:5000' },
    );
    await api.backbone.log.start();
  });
  afterAll(async () => {
    await api?.close();
    await git?.close();
    if (templatesDir) rmSync(templatesDir, { recursive: true, force: true });
  });

  it('builds, then records why it cannot deploy, on the function’s status and the stack’s', async () => {
    const sha = git.commit('alexellis', 'fns', files('nowhere'));
    const deliveryId = await deliverCommit(api.url, secret, git, { owner: 'alexellis', repo: 'fns', sha });
    const recorded = async (): Promise<StoredEvent[]> =>
      api.backbone.db.query(`SELECT type, data FROM events WHERE correlation_id = $1 ORDER BY global_position`, [deliveryId]);
    const reported = async (context: string) =>
      (await recorded()).filter((event) => event.type === 'CommitStatusReported' && event.data.context === context).at(-1)?.data;
    await eventually(
      async () => (await reported('stack-deploy'))?.state === 'failure' && (await reported(FN))?.state === 'failure',
      110_000,
      'the push to fail',
    );
    const reason = 'no OpenFaaS gateway to deploy to: set OPENFAAS_URL';
    const events = await recorded();
    expect(events.filter((event) => event.type === 'DeployFailed').map((event) => event.data.reason)).toEqual([reason]);
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['BuildSucceeded']));
    expect(events.map((event) => event.type)).not.toContain('FunctionDeployed');
    expect(await reported(FN)).toMatchObject({ sha, state: 'failure', description: `deploy failed: ${reason}` });
    expect(await reported('stack-deploy')).toMatchObject({
      sha,
      state: 'failure',
      description: expect.stringMatching(/^1 of 1 function\(s\) failed: \S+: deploy failed: /),
    });
  }, 120_000);
});
