import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, logModes } from '../../../libs/infra/test/support/backbones.js';
import type { RepoFiles } from '../../../test/support/git-repos.js';
import { answerViolation, type OpenApiDocument } from './support/openapi-check.js';
import { pushCommit, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';

const secret = 'read-contract-webhook-secret';
const ADMIN = 'read-contract-admin-token';
const admin = { authorization: `Bearer ${ADMIN}` };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const stack = (functions: string[]) =>
  `provider:\n  name: openfaas\nfunctions:\n${functions.map((fn) => `  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: alexellis2/${fn}:0.1\n`).join('')}`;
const handler = (fn: string, text: string) => ({ [`${fn}/handler.js`]: `module.exports = async () => ${JSON.stringify(text)};\n` });

type Json = Record<string, unknown>;
type List = { items: Json[]; nextCursor: string | null };

describe.each(logModes)('the read api after real pushes through the pipeline ($name)', (mode) => {
  let world: PipelineWorld;
  let api: PipelineWorld['api'];
  let document: OpenApiDocument;
  const problems: string[] = [];

  beforeAll(async () => {
    world = await startPipelineWorld(secret, mode.kafka(), { ADMIN_TOKEN: ADMIN });
    api = world.api;
    document = (await (await fetch(`${api.url}/api/docs-json`)).json()) as OpenApiDocument;
  });

  afterAll(async () => {
    await world?.close();
  });

  /** A JSON answer, checked against the OpenAPI document the same api serves. */
  async function get<T = Json>(path: string, headers: Record<string, string> = {}, status = 200): Promise<T> {
    const response = await fetch(`${api.url}${path}`, { headers });
    const body = (await response.json()) as T;
    const problem = answerViolation(document, 'GET', path, response.status, body);
    if (problem) problems.push(problem);
    expect({ path, status: response.status }).toEqual({ path, status });
    return body;
  }

  const push = async (files: RepoFiles) => {
    const { sha, deliveryId } = await pushCommit(world, secret, files);
    // Projected: the push has its outcome and the audit trail holds the last commit status.
    await eventually(
      async () => {
        const pushes = (await (await fetch(`${api.url}/api/v1/repos/alexellis/fns/pushes`)).json()) as List;
        return pushes.items.some((item) => item.deliveryId === deliveryId && item.outcome !== 'pending');
      },
      60_000,
      `the outcome of push ${sha.slice(0, 7)}`,
    );
    return { sha, deliveryId };
  };

  let first: { sha: string; deliveryId: string };
  let second: { sha: string; deliveryId: string };

  it('answers functions, builds, pushes and logs with the values of the push', async () => {
    first = await push({ 'stack.yml': stack(['fn1', 'fn2']), ...handler('fn1', 'one'), ...handler('fn2', 'two') });
    await eventually(
      async () =>
        ((await (await fetch(`${api.url}/api/v1/functions?owner=alexellis`)).json()) as List).items.filter((fn) => fn.status === 'ready')
          .length === 2,
      30_000,
      'both functions ready',
    );

    const functions = await get<List>('/api/v1/functions?owner=AlexEllis&repo=fns');
    expect(functions.nextCursor).toBeNull();
    expect(functions.items.map((fn) => fn.name)).toEqual(['alexellis-fn1', 'alexellis-fn2']);
    const fn1 = await get('/api/v1/functions/alexellis-fn1');
    expect(fn1).toEqual({
      name: 'alexellis-fn1',
      owner: 'alexellis',
      repo: 'fns',
      function: 'fn1',
      image: `registry:5000/alexellis/fns-fn1:0.1-master-${first.sha.slice(0, 7)}`,
      sha: first.sha,
      branch: 'master',
      preview: false,
      status: 'ready',
      endpoint: 'http://gateway.example/function/alexellis-fn1',
      deployedAt: expect.stringMatching(ISO),
      reason: null,
    });
    expect(functions.items[0]).toEqual(fn1);
    expect(world.gateway.functions.get('alexellis-fn1')!.image).toBe(fn1.image);

    const builds = await get<List>('/api/v1/functions/alexellis-fn1/builds');
    expect(builds.items).toHaveLength(1);
    const build = builds.items[0]!;
    expect(build).toEqual({
      id: expect.any(String),
      name: 'alexellis-fn1',
      owner: 'alexellis',
      repo: 'fns',
      sha: first.sha,
      status: 'succeeded',
      image: fn1.image,
      contextDigest: expect.stringMatching(/^(sha256:)?[0-9a-f]{64}$/),
      startedAt: expect.stringMatching(ISO),
      finishedAt: expect.stringMatching(ISO),
      durationMs: expect.any(Number),
      reason: null,
      deliveryId: first.deliveryId,
      reusedBuildId: null,
      supersededBy: null,
      builder: 'local',
      imageDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      platforms: null,
    });
    expect(Date.parse(build.finishedAt as string)).toBeGreaterThanOrEqual(Date.parse(build.startedAt as string));
    expect(await get(`/api/v1/builds/${build.id}`)).toEqual(build);
    const log = await fetch(`${api.url}/api/v1/builds/${build.id}/log`, { headers: admin });
    expect(log.status).toBe(200);
    expect(log.headers.get('content-type')).toMatch(/^text\/plain/);

    const pushes = await get<List>('/api/v1/repos/alexellis/fns/pushes');
    expect(pushes.items).toEqual([
      {
        deliveryId: first.deliveryId,
        owner: 'alexellis',
        repo: 'fns',
        sha: first.sha,
        ref: 'refs/heads/master',
        branch: 'master',
        receivedAt: expect.stringMatching(ISO),
        outcome: 'deployed',
        reason: null,
      },
    ]);
  });

  it('keeps the build history newest first and shows the reused image', async () => {
    second = await push({ 'stack.yml': stack(['fn1', 'fn2']), ...handler('fn1', 'one'), ...handler('fn2', 'TWO') });
    const builds = await get<List>('/api/v1/functions/alexellis-fn1/builds');
    expect(builds.items.map((build) => [build.status, build.sha, build.deliveryId])).toEqual([
      ['reused', second.sha, second.deliveryId],
      ['succeeded', first.sha, first.deliveryId],
    ]);
    expect(builds.items[0]!.reusedBuildId).toBe(builds.items[1]!.id);
    const page = await get<List>('/api/v1/functions/alexellis-fn2/builds?limit=1');
    expect(page.items.map((build) => build.sha)).toEqual([second.sha]);
    const rest = await get<List>(`/api/v1/functions/alexellis-fn2/builds?limit=1&cursor=${page.nextCursor}`);
    expect([rest.items.map((build) => build.sha), rest.nextCursor]).toEqual([[first.sha], null]);
    expect((await get<List>('/api/v1/repos/AlexEllis/FNS/pushes')).items.map((p) => [p.deliveryId, p.outcome])).toEqual([
      [second.deliveryId, 'deployed'],
      [first.deliveryId, 'deployed'],
    ]);
  });

  it('answers the audit trail of a delivery oldest first, with actor, correlation and causation', async () => {
    const trail = await get<List>(`/api/v1/audit?correlationId=${first.deliveryId}&limit=500`, admin);
    const types = trail.items.map((event) => event.type);
    expect(types[0]).toBe('PushReceived');
    for (const type of ['SourceFetched', 'BuildStarted', 'BuildSucceeded', 'FunctionDeployed', 'CommitStatusReported'])
      expect(types).toContain(type);
    const positions = trail.items.map((event) => event.position as number);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    // What `faasline push` follows is the same delivery's events in the same shape, up to the projection's lag.
    const followed = await get<List>(`/api/v1/deliveries/${first.deliveryId}/events`, admin);
    expect(followed.items.slice(0, trail.items.length)).toEqual(trail.items);
    expect(trail.items[0]).toMatchObject({
      actor: 'github:alexellis',
      correlationId: first.deliveryId,
      causationId: first.deliveryId,
      stream: 'repository-alexellis/fns',
    });
    expect(trail.items.slice(1).every((event) => event.actor === 'system:pipeline' || String(event.actor).startsWith('system:'))).toBe(
      true,
    );
    const deployed = await get<List>(`/api/v1/audit?owner=alexellis&repo=fns&type=FunctionDeployed`, admin);
    // Oldest first: both deploys of the first push, then both of the second (in whichever order each push deployed).
    const deploys = deployed.items.map((event) => event.data as Json);
    expect(deploys.map((data) => data.sha)).toEqual([first.sha, first.sha, second.sha, second.sha]);
    expect(new Set(deploys.slice(0, 2).map((data) => data.name))).toEqual(new Set(['alexellis-fn1', 'alexellis-fn2']));
    const since = trail.items.at(-1)!.occurredAt as string;
    const later = await get<List>(`/api/v1/audit?since=${since}&limit=500`, admin);
    expect(later.items.every((event) => String(event.occurredAt) >= since)).toBe(true);
  });

  it('explains why a function is at its SHA: causation from FunctionDeployed back to the push', async () => {
    for (const [name, build] of [
      ['alexellis-fn1', 'BuildReused'],
      ['alexellis-fn2', 'BuildSucceeded'],
    ] as const) {
      const provenance = await get<{ name: string; sha: string; deliveryId: string; chain: Json[] }>(
        `/api/v1/functions/${name}/provenance`,
        admin,
      );
      expect(provenance).toMatchObject({ name, sha: second.sha, deliveryId: second.deliveryId });
      const { chain } = provenance;
      expect(chain[0]).toMatchObject({ type: 'FunctionDeployed', data: expect.objectContaining({ name, sha: second.sha }) });
      // The pipeline's causation: deploy ← build (or reuse) ← source ← push; the push is caused by the delivery.
      expect(chain.map((event) => event.type)).toEqual(['FunctionDeployed', build, 'SourceFetched', 'PushReceived']);
      expect(chain.at(-1)).toMatchObject({
        type: 'PushReceived',
        causationId: second.deliveryId,
        data: expect.objectContaining({ deliveryId: second.deliveryId, sha: second.sha }),
      });
      chain.slice(0, -1).forEach((event, i) => expect(event.causationId).toBe(chain[i + 1]!.eventId));
      expect(new Set(chain.map((event) => event.correlationId))).toEqual(new Set([second.deliveryId]));
    }
  });

  it('gave only answers the OpenAPI document describes', () => {
    expect(problems).toEqual([]);
  });
});
