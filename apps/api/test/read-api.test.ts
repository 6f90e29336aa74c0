import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { eventTypes, type Event } from '#domain';
import { loadConfig, openBackbone, silentLogger, type Backbone } from '#infra';
import { createApi } from '../src/api-app.js';
import { insertRows, provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { pushData } from '../../../libs/domain/src/spec-fixtures.js';
import { answerViolation, optionalProperties, type OpenApiDocument } from './support/openapi-check.js';

const ADMIN = 'read-api-admin-token';
const admin = { authorization: `Bearer ${ADMIN}` };
let database: TestDatabase;
let backbone: Backbone;
let app: NestFastifyApplication;
let url: string;
let dataDir: string;
let document: OpenApiDocument;

/** Every JSON answer of the read api seen by this file, checked against the OpenAPI document at the end. */
const answers: { method: string; path: string; status: number; body: unknown }[] = [];

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}${path}`, { headers });
  const body = (await response.json()) as Record<string, unknown> & {
    items: Record<string, unknown>[];
    nextCursor: string | null;
    message: string;
  };
  answers.push({ method: 'GET', path, status: response.status, body });
  return { status: response.status, body };
}

/** Every item of a list, page by page (`limit` each), with the cursor of each page. */
async function walk(path: string, limit: number, headers: Record<string, string> = {}) {
  const items: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const { status, body } = await get(`${path}${separator}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, headers);
    expect(status).toBe(200);
    expect(body.items.length).toBeLessThanOrEqual(limit);
    items.push(...body.items);
    cursor = body.nextCursor;
    pages += 1;
  } while (cursor !== null);
  return { items, pages };
}

const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 12, minute)).toISOString();

const insert = (table: string, rows: Record<string, unknown>[]) => insertRows(backbone.db, table, rows);

/** The push behind the fixtures' rows: a public repository's (rows of unknown privacy are shown to admins only). */
const PUBLIC_DELIVERY = 'fixture-public-push';
const publicPush = (deliveryId: string) => ({
  delivery_id: deliveryId,
  owner: 'fixture',
  repo: 'public',
  sha: 'f'.repeat(40),
  outcome: 'deployed',
  private: false,
});

const functionRow = (owner: string, repo: string, fn: string, extra: Record<string, unknown> = {}) => ({
  name: `${owner.toLowerCase()}-${fn}`,
  owner,
  repo,
  function: fn,
  image: `registry:5000/${owner.toLowerCase()}/${repo.toLowerCase()}-${fn}:latest-master-abcdef1`,
  sha: 'abcdef1234567890abcdef1234567890abcdef12',
  branch: 'master',
  status: 'ready',
  endpoint: `http://gateway.example/function/${owner.toLowerCase()}-${fn}`,
  deployed_at: at(1),
  delivery_id: PUBLIC_DELIVERY,
  updated_position: 1,
  ...extra,
});

/** One push's events as the pipeline records them: each step's causation is the id of the event it reacted to. */
async function pipelineRun(owner: string, repo: string, fn: string, sha: string) {
  const deliveryId = randomUUID();
  const name = `${owner.toLowerCase()}-${fn}`;
  const buildId = randomUUID();
  const repoStream = `repository-${owner.toLowerCase()}/${repo.toLowerCase()}`;
  const ref = { buildId, name, owner, repo, sha, contextDigest: `sha256:${sha}` };
  const append = async (
    stream: string,
    event: Event,
    causationId: string,
    actor: `github:${string}` | `system:${string}` = 'system:pipeline',
  ) => {
    const result = await backbone.store.append(stream, 'any', [event], { correlationId: deliveryId, causationId, actor });
    return result.events[0]!.metadata.eventId;
  };
  const pushed = await append(
    repoStream,
    {
      type: 'PushReceived',
      data: pushData(sha, {
        deliveryId,
        owner,
        repo,
        cloneUrl: `https://github.com/${owner}/${repo}.git`,
        installationId: null,
        pusher: owner,
        receivedAt: at(0),
      }),
    },
    deliveryId,
    `github:${owner}`,
  );
  const fetched = await append(
    repoStream,
    {
      type: 'SourceFetched',
      data: { deliveryId, owner, repo, branch: 'master', sha, stackFile: 'stack.yml', functions: [], rejected: [] },
    },
    pushed,
  );
  const started = await append(`function-${name}`, { type: 'BuildStarted', data: ref }, fetched);
  const built = await append(
    `function-${name}`,
    { type: 'BuildSucceeded', data: { ...ref, image: `img:${sha.slice(0, 7)}`, durationMs: 1200, logRef: buildId, logTail: 'ok' } },
    started,
  );
  const deployed = await append(
    `function-${name}`,
    {
      type: 'FunctionDeployed',
      data: {
        name,
        owner,
        repo,
        function: fn,
        branch: 'master',
        sha,
        image: `img:${sha.slice(0, 7)}`,
        endpoint: `http://gw/function/${name}`,
        deliveryId,
        buildId,
        pushSequence: 1,
      },
    },
    built,
  );
  return { deliveryId, deployed, pushed };
}

beforeAll(async () => {
  database = await provisionTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'faasline-read-api-'));
  const config = loadConfig({ DATABASE_URL: database.url, DATA_DIR: dataDir });
  backbone = await openBackbone(config, silentLogger);
  app = await createApi(backbone, config, silentLogger, {
    withProjector: false,
    withPipeline: false,
    webhookSecret: 'secret',
    adminToken: ADMIN,
    gatewayPassword: 'pw',
  });
  await app.listen(0, '127.0.0.1');
  url = await app.getUrl();
  await insert('read_pushes', [publicPush(PUBLIC_DELIVERY)]);
  document = (await (await fetch(`${url}/api/docs-json`)).json()) as OpenApiDocument;
});

afterAll(async () => {
  await app?.close();
  await backbone?.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('GET /api/v1/functions', () => {
  beforeAll(async () => {
    const fns = Array.from({ length: 23 }, (_, i) => functionRow('AlexEllis', 'Fns', `fn${String(i).padStart(2, '0')}`));
    await insert('read_functions', [
      ...fns,
      functionRow('alexellis', 'other', 'elsewhere'),
      functionRow('someone', 'fns', 'theirs', {
        status: 'failed',
        image: null,
        endpoint: null,
        deployed_at: null,
        branch: null,
        reason: 'build failed: exit 1',
      }),
    ]);
  });

  it('answers every field of a function, timestamps as ISO strings and null where unknown', async () => {
    const { status, body } = await get('/api/v1/functions/someone-theirs');
    expect(status).toBe(200);
    expect(body).toEqual({
      name: 'someone-theirs',
      owner: 'someone',
      repo: 'fns',
      function: 'theirs',
      image: null,
      sha: 'abcdef1234567890abcdef1234567890abcdef12',
      branch: null,
      status: 'failed',
      endpoint: null,
      deployedAt: null,
      reason: 'build failed: exit 1',
      preview: false,
    });
    expect((await get('/api/v1/functions/alexellis-fn00')).body).toMatchObject({
      owner: 'AlexEllis',
      deployedAt: at(1),
      status: 'ready',
      endpoint: 'http://gateway.example/function/alexellis-fn00',
    });
  });

  it('is 404 for an unknown function and 400 for a name that cannot be one', async () => {
    expect(await get('/api/v1/functions/nobody-here')).toEqual({ status: 404, body: { message: 'no function nobody-here' } });
    const bad = await get('/api/v1/functions/Not_A_Name');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^name: /);
  });

  it('filters by owner and repo case-insensitively', async () => {
    const { items } = await walk('/api/v1/functions?owner=alexellis&repo=FNS', 500);
    expect(items).toHaveLength(23);
    expect(new Set(items.map((fn) => `${fn.owner}/${fn.repo}`))).toEqual(new Set(['AlexEllis/Fns']));
    expect((await walk('/api/v1/functions?owner=ALEXELLIS', 500)).items).toHaveLength(24);
    expect((await walk('/api/v1/functions?repo=fns', 500)).items).toHaveLength(24);
    expect((await get('/api/v1/functions?owner=nobody')).body).toEqual({ items: [], nextCursor: null });
  });

  it('walks every page by name with no duplicate and no gap', async () => {
    const all = (await get('/api/v1/functions')).body;
    expect(all.nextCursor).toBeNull();
    const names = all.items.map((fn) => fn.name as string);
    expect(names).toEqual([...names].sort());
    expect(names).toHaveLength(25);
    for (const limit of [1, 4, 7, 25]) {
      const { items, pages } = await walk('/api/v1/functions', limit);
      expect(items.map((fn) => fn.name)).toEqual(names);
      expect(pages).toBe(Math.ceil(25 / limit));
    }
    const filtered = await walk('/api/v1/functions?owner=alexellis&repo=fns', 5);
    expect(filtered.items.map((fn) => fn.name)).toEqual(names.filter((name) => /^alexellis-fn\d/.test(name)));
  });

  it('refuses a bad limit, cursor, owner or repo with the parameter named', async () => {
    for (const [query, pattern] of [
      ['limit=0', /^limit must be a whole number from 1 to 500/],
      ['limit=501', /^limit/],
      ['limit=abc', /^limit/],
      ['limit=2.5', /^limit/],
      ['limit=1&limit=2', /^limit is given 2 times/],
      ['cursor=nope!', /^cursor/],
      [`cursor=${Buffer.from('[1]').toString('base64url')}`, /^cursor/],
      ['owner=a%20b', /^owner/],
      ['repo=a%2Fb', /^repo/],
    ] as const) {
      const { status, body } = await get(`/api/v1/functions?${query}`);
      expect({ query, status }).toEqual({ query, status: 400 });
      expect(body.message).toMatch(pattern);
    }
  });
});

describe('GET /api/v1/functions/{name}/builds and GET /api/v1/builds/{id}', () => {
  const builds = Array.from({ length: 37 }, (_, i) => ({
    id: randomUUID(),
    function_name: 'alexellis-fn1',
    owner: 'alexellis',
    repo: 'fns',
    sha: `${String(i).padStart(2, '0')}${'a'.repeat(38)}`,
    status: ['succeeded', 'failed', 'reused', 'superseded', 'running', 'queued'][i % 6],
    image: i % 6 === 5 ? null : `img:${i}`,
    context_digest: `sha256:${i}`,
    started_at: i % 6 === 5 ? null : at(i),
    finished_at: i % 6 >= 4 ? null : at(i + 1),
    duration_ms: i % 6 >= 4 ? null : 60_000 + i,
    log_ref: null,
    reason: i % 6 === 1 ? 'exit 1' : null,
    delivery_id: `delivery-${i}`,
    reused_build_id: null,
    superseded_by: i % 6 === 3 ? 'delivery-99' : null,
    // Two builds share a position (a build per function of one push): the id breaks the tie.
    seq: 1000 + Math.floor(i / 2) * 10,
  }));

  beforeAll(async () => {
    await insert('read_builds', [...builds, { ...builds[0]!, id: randomUUID(), function_name: 'alexellis-fn2', seq: 5000 }]);
    await insert(
      'read_pushes',
      builds.map((build) => publicPush(build.delivery_id)),
    );
  });

  const newestFirst = () => [...builds].sort((a, b) => b.seq - a.seq || (a.id < b.id ? 1 : -1)).map((build) => build.id);

  it('lists a function’s builds newest first, page after page with no duplicate and no gap', async () => {
    for (const limit of [1, 5, 36, 37, 50]) {
      const { items } = await walk('/api/v1/functions/alexellis-fn1/builds', limit);
      expect(items.map((build) => build.id)).toEqual(newestFirst());
    }
    expect((await get('/api/v1/functions/nobody-fn/builds')).body).toEqual({ items: [], nextCursor: null });
  });

  it('answers a build with the INTERFACE.md fields', async () => {
    const source = builds[1]!;
    const { status, body } = await get(`/api/v1/builds/${source.id}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      id: source.id,
      name: 'alexellis-fn1',
      owner: 'alexellis',
      repo: 'fns',
      sha: source.sha,
      status: 'failed',
      image: 'img:1',
      contextDigest: 'sha256:1',
      startedAt: at(1),
      finishedAt: at(2),
      durationMs: 60_001,
      reason: 'exit 1',
      deliveryId: 'delivery-1',
      reusedBuildId: null,
      supersededBy: null,
      builder: null,
      imageDigest: null,
      platforms: null,
    });
    expect((await get(`/api/v1/builds/${builds[5]!.id}`)).body).toMatchObject({
      status: 'queued',
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      image: null,
    });
    expect(await get(`/api/v1/builds/${randomUUID()}`)).toMatchObject({ status: 404 });
    expect(await get('/api/v1/builds/not%20an%20id')).toMatchObject({ status: 400 });
  });

  it('refuses a cursor of another list and a malformed function name', async () => {
    const functions = await get('/api/v1/functions?limit=1');
    expect((await get(`/api/v1/functions/alexellis-fn1/builds?cursor=${functions.body.nextCursor}`)).status).toBe(400);
    expect((await get('/api/v1/functions/-bad-/builds')).status).toBe(400);
  });
});

describe('GET /api/v1/repos/{owner}/{repo}/pushes', () => {
  const pushes = Array.from({ length: 26 }, (_, i) => ({
    delivery_id: randomUUID(),
    owner: 'AlexEllis',
    repo: 'Fns',
    sha: `${String(i).padStart(2, '0')}${'b'.repeat(38)}`,
    ref: 'refs/heads/master',
    branch: 'master',
    received_at: at(i),
    outcome: ['pending', 'deployed', 'failed', 'ignored'][i % 4],
    reason: i % 4 >= 2 ? `reason ${i}` : null,
    seq: 100 + i * 3,
    private: false,
  }));

  beforeAll(async () => {
    await insert('read_pushes', [
      ...pushes,
      // A status projected before its push (Kafka): not listed until the push itself is.
      {
        delivery_id: randomUUID(),
        owner: 'alexellis',
        repo: 'fns',
        sha: 'c'.repeat(40),
        ref: null,
        branch: null,
        received_at: null,
        outcome: 'deployed',
        reason: null,
        seq: null,
      },
      { ...pushes[0]!, delivery_id: randomUUID(), repo: 'other', seq: 9999 },
    ]);
  });

  it('lists a repository’s pushes newest first, case-insensitively, with every field', async () => {
    const expected = [...pushes].reverse().map((push) => push.delivery_id);
    for (const limit of [1, 3, 26, 100]) {
      const { items } = await walk('/api/v1/repos/alexellis/FNS/pushes', limit);
      expect(items.map((push) => push.deliveryId)).toEqual(expected);
    }
    const { body } = await get('/api/v1/repos/AlexEllis/Fns/pushes?limit=1');
    const newest = pushes.at(-1)!;
    expect(body.items).toEqual([
      {
        deliveryId: newest.delivery_id,
        owner: 'AlexEllis',
        repo: 'Fns',
        sha: newest.sha,
        ref: 'refs/heads/master',
        branch: 'master',
        receivedAt: at(25),
        outcome: 'deployed',
        reason: null,
      },
    ]);
    expect(typeof body.nextCursor).toBe('string');
    expect((await get('/api/v1/repos/nobody/nothing/pushes')).body).toEqual({ items: [], nextCursor: null });
  });

  it('refuses a bad owner, repo, limit or cursor', async () => {
    expect((await get('/api/v1/repos/bad%20owner/fns/pushes')).body.message).toMatch(/^owner/);
    expect((await get('/api/v1/repos/alexellis/bad%20repo/pushes')).body.message).toMatch(/^repo/);
    expect((await get('/api/v1/repos/alexellis/fns/pushes?limit=-1')).status).toBe(400);
    expect((await get(`/api/v1/repos/alexellis/fns/pushes?cursor=${Buffer.from('[0]').toString('base64url')}`)).status).toBe(400);
  });
});

describe('GET /api/v1/audit and GET /api/v1/functions/{name}/provenance (admin)', () => {
  const runs: Awaited<ReturnType<typeof pipelineRun>>[] = [];

  beforeAll(async () => {
    runs.push(await pipelineRun('AlexEllis', 'Fns', 'fn1', 'a'.repeat(40)));
    runs.push(await pipelineRun('someone', 'repo', 'fn2', 'b'.repeat(40)));
    runs.push(await pipelineRun('AlexEllis', 'Fns', 'fn1', 'c'.repeat(40)));
    await backbone.store.append(
      'installation-1',
      0,
      [{ type: 'InstallationCreated', data: { installationId: 1, account: 'AlexEllis', accountId: 1, repositories: [] } }],
      { correlationId: 'install-delivery', causationId: 'install-delivery', actor: 'github:AlexEllis' },
    );
    // The builds as a v1 writer stored them (before `builder` and `imageDigest`): the audit must read them upcast.
    await backbone.db.query(`UPDATE events SET schema_version = 1 WHERE type = 'BuildSucceeded'`);
    // One event a minute, so that since/until are exact; then the audit rows as the projector writes them.
    await backbone.db.query(`UPDATE events SET occurred_at = timestamptz '2026-11-01T12:00:00Z' + global_position * interval '1 minute'`);
    await backbone.db.query(
      `INSERT INTO read_audit (position, event_id, type, stream, owner, repo, occurred_at, actor, correlation_id, causation_id)
       SELECT global_position, event_id::text, type, stream_id, lower(coalesce(data->>'owner', data->>'account')), lower(data->>'repo'),
              occurred_at, actor, correlation_id, causation_id FROM events`,
    );
    await insert('read_functions', [
      functionRow('AlexEllis', 'Fns', 'fn1', { sha: 'c'.repeat(40), deploy_event_id: runs[2]!.deployed, delivery_id: runs[2]!.deliveryId }),
      functionRow('someone', 'repo', 'never', { status: 'building', deploy_event_id: null }),
    ]);
  });

  it('needs the admin token: 401 without a bearer, 403 with a wrong one', async () => {
    for (const path of ['/api/v1/audit', '/api/v1/functions/alexellis-fn1/provenance', '/api/v1/deliveries/x/events']) {
      const missing = await get(path);
      expect({ path, status: missing.status }).toEqual({ path, status: 401 });
      expect(missing.body.message).toMatch(/Bearer/);
      expect((await get(path, { authorization: 'Bearer wrong' })).status).toBe(403);
      expect((await get(path, { authorization: `Basic ${ADMIN}` })).status).toBe(401);
    }
  });

  it('answers every event oldest first with actor, correlation, causation and the upcast data', async () => {
    const { items } = await walk('/api/v1/audit', 500, admin);
    expect(items).toHaveLength(16);
    expect(items.map((event) => event.position)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(items[0]).toEqual({
      position: 1,
      eventId: expect.any(String),
      type: 'PushReceived',
      stream: 'repository-alexellis/fns',
      occurredAt: '2026-11-01T12:01:00.000Z',
      actor: 'github:AlexEllis',
      correlationId: runs[0]!.deliveryId,
      causationId: runs[0]!.deliveryId,
      data: expect.objectContaining({ deliveryId: runs[0]!.deliveryId, owner: 'AlexEllis', sha: 'a'.repeat(40) }),
    });
    for (const limit of [1, 3, 16]) expect((await walk('/api/v1/audit', limit, admin)).items).toEqual(items);
    const stored: { version: number; data: Record<string, unknown> }[] = await backbone.db.query(
      `SELECT schema_version AS version, data FROM events WHERE type = 'BuildSucceeded' ORDER BY global_position`,
    );
    expect(stored.map((row) => [row.version, 'builder' in row.data, 'imageDigest' in row.data])).toEqual(runs.map(() => [1, false, false]));
    const builds = items.filter((event) => event.type === 'BuildSucceeded');
    expect(builds.map((event) => event.data)).toEqual(stored.map((row) => ({ ...row.data, builder: null, imageDigest: null })));
  });

  it('filters by owner, repo, type, since, until, actor and correlation id', async () => {
    const all = (await walk('/api/v1/audit', 500, admin)).items;
    const positions = async (query: string, limit = 2) =>
      (await walk(`/api/v1/audit?${query}`, limit, admin)).items.map((event) => event.position);
    const where = (test: (event: Record<string, unknown>) => boolean) => all.filter(test).map((event) => event.position);
    const owner = (event: Record<string, unknown>) =>
      String((event.data as { owner?: string; account?: string }).owner ?? (event.data as { account?: string }).account).toLowerCase();
    expect(await positions('owner=ALEXELLIS')).toEqual(where((event) => owner(event) === 'alexellis'));
    expect(await positions('owner=alexellis&repo=fns')).toEqual(
      where((event) => owner(event) === 'alexellis' && event.type !== 'InstallationCreated'),
    );
    expect(await positions('repo=REPO')).toEqual(where((event) => owner(event) === 'someone'));
    expect(await positions('type=FunctionDeployed', 1)).toEqual(where((event) => event.type === 'FunctionDeployed'));
    expect(await positions('since=2026-11-01T12:05:00Z&until=2026-11-01T12:09:00Z')).toEqual([5, 6, 7, 8]);
    expect(await positions('since=2026-11-01T13:05:00%2B01:00')).toEqual(where((event) => Number(event.position) >= 5));
    expect(await positions('since=2026-11-01T13:05:00+01:00&until=2026-11-01T12:07:00.000Z')).toEqual([5, 6]);
    expect(await positions('until=2026-11-02')).toEqual(where(() => true));
    expect(await positions('actor=github:someone')).toEqual(where((event) => event.actor === 'github:someone'));
    expect(await positions(`correlationId=${runs[1]!.deliveryId}&type=BuildStarted`)).toEqual(
      where((event) => event.correlationId === runs[1]!.deliveryId && event.type === 'BuildStarted'),
    );
    expect(await positions('owner=nobody')).toEqual([]);
  });

  it('refuses a bad type, since, until, limit or cursor', async () => {
    const bad = async (query: string) => {
      const { status, body } = await get(`/api/v1/audit?${query}`, admin);
      expect({ query, status }).toEqual({ query, status: 400 });
      return body.message;
    };
    expect(await bad('type=Nope')).toBe(`type must be one of ${eventTypes.join(', ')}; "Nope" is not an event type`);
    expect(await bad('since=yesterday')).toMatch(/^since must be an ISO 8601/);
    expect(await bad('until=2026-13-01')).toMatch(/^until/);
    expect(await bad('since=2026-11-01T12:00:00')).toMatch(/^since/);
    expect(await bad('since=2026-11-02&until=2026-11-01')).toBe('since must be before until');
    expect(await bad('limit=1000')).toMatch(/^limit/);
    expect(await bad('cursor=abc')).toMatch(/^cursor/);
    expect(await bad('owner=-')).toMatch(/^owner/);
  });

  it('follows causation from the current FunctionDeployed back to the PushReceived of its delivery', async () => {
    const { status, body } = await get('/api/v1/functions/alexellis-fn1/provenance', admin);
    expect(status).toBe(200);
    expect(body).toMatchObject({ name: 'alexellis-fn1', sha: 'c'.repeat(40), deliveryId: runs[2]!.deliveryId });
    const chain = body.chain as Record<string, unknown>[];
    expect(chain.map((event) => event.type)).toEqual([
      'FunctionDeployed',
      'BuildSucceeded',
      'BuildStarted',
      'SourceFetched',
      'PushReceived',
    ]);
    expect(chain[0]!.eventId).toBe(runs[2]!.deployed);
    chain.slice(0, -1).forEach((event, i) => expect(event.causationId).toBe(chain[i + 1]!.eventId));
    expect(chain.at(-1)).toMatchObject({ eventId: runs[2]!.pushed, causationId: runs[2]!.deliveryId, actor: 'github:AlexEllis' });
    expect(new Set(chain.map((event) => event.correlationId))).toEqual(new Set([runs[2]!.deliveryId]));
  });

  it('is 404 for an unknown or never deployed function and 400 for a bad name', async () => {
    expect(await get('/api/v1/functions/nobody-fn/provenance', admin)).toEqual({ status: 404, body: { message: 'no function nobody-fn' } });
    expect(await get('/api/v1/functions/someone-never/provenance', admin)).toEqual({
      status: 404,
      body: { message: 'function someone-never has never been deployed' },
    });
    expect((await get('/api/v1/functions/UPPER/provenance', admin)).status).toBe(400);
  });
});

describe('private repositories (repository.private) on the public read routes', () => {
  const privateDelivery = randomUUID();
  const publicDelivery = randomUUID();
  const ignoredDelivery = randomUUID();
  const privateBuild = randomUUID();
  const publicBuild = randomUUID();
  const build = (id: string, deliveryId: string, fn: string, seq: number) => ({
    id,
    function_name: `hidden-${fn}`,
    owner: 'hidden',
    repo: 'mixed',
    sha: 'd'.repeat(40),
    status: 'succeeded',
    image: 'img',
    context_digest: 'sha256:d',
    delivery_id: deliveryId,
    seq,
  });

  beforeAll(async () => {
    await insert('read_pushes', [
      {
        delivery_id: privateDelivery,
        owner: 'hidden',
        repo: 'mixed',
        sha: 'd'.repeat(40),
        ref: 'refs/heads/main',
        branch: 'main',
        received_at: at(3),
        outcome: 'deployed',
        seq: 7001,
        private: true,
      },
      {
        delivery_id: publicDelivery,
        owner: 'hidden',
        repo: 'mixed',
        sha: 'e'.repeat(40),
        ref: 'refs/heads/main',
        branch: 'main',
        received_at: at(2),
        outcome: 'deployed',
        seq: 7000,
        private: false,
      },
      // An ignored push does not say whether its repository is private: only an admin sees it.
      {
        delivery_id: ignoredDelivery,
        owner: 'hidden',
        repo: 'mixed',
        sha: 'f'.repeat(40),
        ref: 'refs/tags/v1',
        branch: null,
        received_at: at(4),
        outcome: 'ignored',
        seq: 7002,
        private: null,
      },
    ]);
    await insert('read_builds', [
      build(privateBuild, privateDelivery, 'secret', 7001),
      build(publicBuild, publicDelivery, 'open', 7000),
      build(randomUUID(), privateDelivery, 'open', 7003),
    ]);
    await insert('read_functions', [
      functionRow('hidden', 'mixed', 'secret', { delivery_id: privateDelivery, build_id: privateBuild, status_build_id: privateBuild }),
      functionRow('hidden', 'mixed', 'open', { delivery_id: publicDelivery, build_id: publicBuild, status_build_id: publicBuild }),
      // Deployed from a public push, but its newest build is of a push made after the repository became private.
      functionRow('hidden', 'mixed', 'turned', { delivery_id: publicDelivery, status: 'building', status_build_id: privateBuild }),
      // Nothing known about its push: not shown to anyone but an admin.
      functionRow('hidden', 'mixed', 'unknown', { delivery_id: null, status: 'building', status_build_id: null }),
    ]);
  });

  const wrong = { authorization: 'Bearer not-the-admin-token' };

  it('lists and answers functions of public pushes only, unless the admin token is given', async () => {
    for (const headers of [{}, wrong]) {
      expect((await walk('/api/v1/functions?owner=hidden', 50, headers)).items.map((fn) => fn.name)).toEqual(['hidden-open']);
      expect((await get('/api/v1/functions/hidden-secret', headers)).status).toBe(404);
      expect((await get('/api/v1/functions/hidden-turned', headers)).status).toBe(404);
      expect((await get('/api/v1/functions/hidden-open', headers)).status).toBe(200);
    }
    expect((await walk('/api/v1/functions?owner=hidden', 50, admin)).items.map((fn) => fn.name)).toEqual([
      'hidden-open',
      'hidden-secret',
      'hidden-turned',
      'hidden-unknown',
    ]);
    expect(await get('/api/v1/functions/hidden-secret', admin)).toMatchObject({
      status: 200,
      body: { name: 'hidden-secret', owner: 'hidden' },
    });
    // The public list of everyone's functions leaves them out too.
    expect((await walk('/api/v1/functions', 50)).items.filter((fn) => fn.owner === 'hidden').map((fn) => fn.name)).toEqual(['hidden-open']);
  });

  it('lists and answers builds of public pushes only, unless the admin token is given', async () => {
    expect((await walk('/api/v1/functions/hidden-open/builds', 10)).items.map((b) => b.id)).toEqual([publicBuild]);
    expect((await walk('/api/v1/functions/hidden-secret/builds', 10)).items).toEqual([]);
    expect((await walk('/api/v1/functions/hidden-open/builds', 10, admin)).items).toHaveLength(2);
    expect((await walk('/api/v1/functions/hidden-secret/builds', 10, admin)).items.map((b) => b.id)).toEqual([privateBuild]);
    expect((await get(`/api/v1/builds/${privateBuild}`)).status).toBe(404);
    expect((await get(`/api/v1/builds/${privateBuild}`, wrong)).status).toBe(404);
    expect(await get(`/api/v1/builds/${privateBuild}`, admin)).toMatchObject({
      status: 200,
      body: { id: privateBuild, deliveryId: privateDelivery },
    });
    expect((await get(`/api/v1/builds/${publicBuild}`)).status).toBe(200);
  });

  it('lists pushes known to be of a public repository only, unless the admin token is given', async () => {
    expect((await walk('/api/v1/repos/hidden/mixed/pushes', 10)).items.map((push) => push.deliveryId)).toEqual([publicDelivery]);
    expect((await walk('/api/v1/repos/hidden/mixed/pushes', 10, wrong)).items.map((push) => push.deliveryId)).toEqual([publicDelivery]);
    expect((await walk('/api/v1/repos/hidden/mixed/pushes', 1, admin)).items.map((push) => push.deliveryId)).toEqual([
      ignoredDelivery,
      privateDelivery,
      publicDelivery,
    ]);
  });
});

describe('the OpenAPI document', () => {
  it('is served at /api/docs-json with the UI at /api/docs', async () => {
    expect(document.openapi).toMatch(/^3\./);
    const ui = await fetch(`${url}/api/docs`);
    expect(ui.status).toBe(200);
    const html = await ui.text();
    expect(html).toMatch(/swagger-ui/i);
    // The page's scripts and styles, resolved as a browser resolves them, load too (served by @fastify/static).
    const assets = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((match) => new URL(match[1]!, `${url}/api/docs`).href);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      // Read to the end: an unread body keeps its connection busy, and app.close() waits for it past afterAll's timeout.
      const response = await fetch(asset);
      await response.arrayBuffer();
      expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
    }
  });

  const readRoutes = [
    '/api/v1/functions',
    '/api/v1/functions/{name}',
    '/api/v1/functions/{name}/builds',
    '/api/v1/functions/{name}/provenance',
    '/api/v1/builds/{id}',
    '/api/v1/repos/{owner}/{repo}/pushes',
    '/api/v1/audit',
  ];

  it('documents every read route, its parameters, and bearer auth on the admin ones', () => {
    for (const path of readRoutes) expect({ path, documented: Boolean(document.paths[path]?.get) }).toEqual({ path, documented: true });
    const names = (path: string) => document.paths[path]!.get!.parameters!.map((parameter) => parameter.name).sort();
    expect(names('/api/v1/audit')).toEqual(['actor', 'correlationId', 'cursor', 'limit', 'owner', 'repo', 'since', 'type', 'until']);
    expect(names('/api/v1/functions')).toEqual(['cursor', 'limit', 'owner', 'repo']);
    expect(names('/api/v1/repos/{owner}/{repo}/pushes')).toEqual(['cursor', 'limit', 'owner', 'repo']);
    expect(document.components.securitySchemes).toHaveProperty('admin', expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    for (const path of ['/api/v1/audit', '/api/v1/functions/{name}/provenance'])
      expect(document.paths[path]!.get!.security).toEqual([{ admin: [] }]);
    // Public routes: no token, or the admin's to see private repositories too.
    for (const path of [
      '/api/v1/functions',
      '/api/v1/functions/{name}',
      '/api/v1/functions/{name}/builds',
      '/api/v1/builds/{id}',
      '/api/v1/repos/{owner}/{repo}/pushes',
    ]) {
      expect({ path, security: document.paths[path]!.get!.security }).toEqual({ path, security: [{}, { admin: [] }] });
      expect(document.paths[path]!.get!.description).toMatch(
        /private repositories are answered only with `Authorization: Bearer <ADMIN_TOKEN>`/,
      );
    }
  });

  it('marks every documented field required, so an answer cannot drop one unnoticed', () => {
    for (const path of readRoutes) {
      for (const [status, response] of Object.entries(document.paths[path]!.get!.responses)) {
        const schema = response.content?.['application/json']?.schema;
        expect({ path, status, schema: Boolean(schema) }).toEqual({ path, status, schema: true });
        expect({ path, status, optional: optionalProperties(document, schema!) }).toEqual({ path, status, optional: [] });
      }
    }
  });

  it('catches an answer that drifts from it', async () => {
    const { body } = await get('/api/v1/functions/someone-theirs');
    const check = (changed: Record<string, unknown>) => answerViolation(document, 'GET', '/api/v1/functions/someone-theirs', 200, changed);
    expect(check(body)).toBeNull();
    expect(check({ ...body, extra: 1 })).toMatch(/extra is not in the document/);
    expect(check({ ...body, deployedAt: undefined })).toMatch(/deployedAt must be a string/);
    expect(check(Object.fromEntries(Object.entries(body).filter(([key]) => key !== 'endpoint')))).toMatch(
      /endpoint is documented as required but missing/,
    );
    expect(check({ ...body, status: 'live' })).toMatch(/status is "live", not one of building/);
    expect(check({ ...body, name: null })).toMatch(/name is null/);
    expect(check({ ...body, deployedAt: '2026-11-01 12:00' })).toMatch(/deployedAt must be an ISO date-time/);
    expect(answerViolation(document, 'GET', '/api/v1/functions/someone-theirs', 418, body)).toMatch(/answered 418/);
    const audit = (await get('/api/v1/audit?limit=1', admin)).body;
    expect(
      answerViolation(document, 'GET', '/api/v1/audit?limit=1', 200, { ...audit, items: [{ ...audit.items[0], position: 1.5 }] }),
    ).toMatch(/position must be an integer/);
    expect(answerViolation(document, 'GET', '/api/v1/audit?limit=1', 200, { ...audit, nextCursor: 5 })).toMatch(
      /nextCursor must be a string/,
    );
  });

  it('describes exactly every answer the routes gave in this file', () => {
    const read = answers.filter((answer) => answer.path.startsWith('/api/v1/'));
    const problems = read
      .map((answer) => answerViolation(document, answer.method, answer.path, answer.status, answer.body))
      .filter(Boolean);
    expect(problems).toEqual([]);
    const covered = new Set(
      read.map(
        (answer) =>
          `${answer.status} ${readRoutes.find((route) => new RegExp(`^${route.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(answer.path.split('?')[0]!))}`,
      ),
    );
    for (const path of readRoutes)
      expect({ path, ok: covered.has(`200 ${path}`), bad: covered.has(`400 ${path}`) }).toEqual({ path, ok: true, bad: true });
  });
});
