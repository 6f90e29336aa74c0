import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Event } from '#domain';
import {
  loadConfig,
  openBackbone,
  PostgresAuditReadModel,
  PostgresBuildsReadModel,
  PostgresFunctionsReadModel,
  PostgresPushesReadModel,
  PostgresSecretHoldersReadModel,
  silentLogger,
  type Backbone,
} from '#infra';
import { insertRows, provisionTestDatabase, type TestDatabase } from './support/test-database.js';
import { pushData } from '../../../libs/domain/src/spec-fixtures.js';

/** The read-model ports' Postgres adapters against a real database: the questions the API asks, row by row. */
let database: TestDatabase;
let dataDir: string;
let backbone: Backbone;
let functions: PostgresFunctionsReadModel;
let builds: PostgresBuildsReadModel;
let pushes: PostgresPushesReadModel;
let audit: PostgresAuditReadModel;

const insert = (table: string, rows: Record<string, unknown>[]) => insertRows(backbone.db, table, rows);

const push = (delivery: string, seq: number | null, isPrivate: boolean | null, owner = 'Alex', repo = 'Fns') => ({
  delivery_id: delivery,
  owner,
  repo,
  sha: 'a'.repeat(40),
  outcome: 'deployed',
  private: isPrivate,
  seq,
});
const fn = (name: string, delivery: string | null, extra: Record<string, unknown> = {}) => ({
  name,
  owner: 'Alex',
  repo: 'Fns',
  function: name.slice(5),
  sha: 'a'.repeat(40),
  status: 'ready',
  delivery_id: delivery,
  updated_position: 1,
  ...extra,
});
const build = (id: string, name: string, seq: number, delivery: string) => ({
  id,
  function_name: name,
  owner: 'alex',
  repo: 'fns',
  sha: 'b'.repeat(40),
  status: 'succeeded',
  context_digest: 'sha256:d',
  delivery_id: delivery,
  seq,
  started_at: '2026-11-01T12:00:00Z',
});

beforeAll(async () => {
  database = await provisionTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'faasline-read-models-'));
  backbone = await openBackbone(loadConfig({ DATABASE_URL: database.url, DATA_DIR: dataDir }), silentLogger);
  functions = new PostgresFunctionsReadModel(backbone.db);
  builds = new PostgresBuildsReadModel(backbone.db);
  pushes = new PostgresPushesReadModel(backbone.db);
  audit = new PostgresAuditReadModel(backbone.db);
  await insert('read_pushes', [
    push('public-1', 1, false),
    push('public-2', 2, false),
    push('private-3', 3, true),
    push('unknown-4', 4, null),
    push('unprojected', null, false),
  ]);
  await insert('read_functions', [
    fn('alex-a', 'public-1', { deploy_event_id: null }),
    fn('alex-b', 'public-2'),
    fn('alex-c', 'private-3'),
    fn('alex-d', 'unknown-4'),
    // Deployed from a public push, but its latest status comes from a build of a private push: hidden too.
    fn('alex-e', 'public-1', { status_build_id: 'private-build' }),
    fn('other-f', 'public-1', { owner: 'other', repo: 'elsewhere' }),
  ]);
  await insert('read_builds', [
    build('b-1', 'alex-a', 10, 'public-1'),
    build('b-2', 'alex-a', 11, 'public-1'),
    build('b-3', 'alex-a', 11, 'public-2'),
    build('b-4', 'alex-a', 12, 'private-3'),
    build('private-build', 'alex-e', 13, 'private-3'),
  ]);
});

afterAll(async () => {
  await backbone?.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('functions read model (postgres)', () => {
  it('lists by name, owner and repo case-insensitively, page after page, private ones only for an admin', async () => {
    const first = await functions.list({ owner: 'ALEX', repo: 'fns' }, { limit: 1, audience: 'anyone' });
    expect(first.items.map((row) => row.name)).toEqual(['alex-a']);
    expect(first.more).toBe(true);
    const rest = await functions.list({ owner: 'alex' }, { limit: 10, after: 'alex-a', audience: 'anyone' });
    expect(rest).toEqual({ items: [expect.objectContaining({ name: 'alex-b' })], more: false });
    const admin = await functions.list({ owner: 'alex' }, { limit: 10, audience: 'admin' });
    expect(admin.items.map((row) => row.name)).toEqual(['alex-a', 'alex-b', 'alex-c', 'alex-d', 'alex-e']);
    expect((await functions.list({}, { limit: 10, audience: 'anyone' })).items.map((row) => row.name)).toEqual([
      'alex-a',
      'alex-b',
      'other-f',
    ]);
  });

  it('answers one function by name, a private one only to an admin', async () => {
    expect(await functions.named('alex-b', 'anyone')).toEqual(expect.objectContaining({ name: 'alex-b', owner: 'Alex', status: 'ready' }));
    expect(await functions.named('alex-c', 'anyone')).toBeNull();
    expect(await functions.named('alex-c', 'admin')).toEqual(expect.objectContaining({ name: 'alex-c' }));
    expect(await functions.named('nobody-x', 'admin')).toBeNull();
  });

  it('tells an unknown function from one never deployed', async () => {
    expect(await functions.deployEventOf('nobody-x')).toBeUndefined();
    expect(await functions.deployEventOf('alex-a')).toBeNull();
  });
});

describe('builds read model (postgres)', () => {
  it('lists a function’s builds newest first, ties on position broken by id, private pushes’ only for an admin', async () => {
    const admin = await builds.ofFunction('alex-a', { limit: 2, audience: 'admin' });
    expect(admin.items.map((row) => [row.id, row.seq])).toEqual([
      ['b-4', 12],
      ['b-3', 11],
    ]);
    expect(admin.more).toBe(true);
    const next = await builds.ofFunction('alex-a', { limit: 2, before: [11, 'b-3'], audience: 'admin' });
    expect(next).toEqual({
      items: [expect.objectContaining({ id: 'b-2', seq: 11 }), expect.objectContaining({ id: 'b-1', seq: 10 })],
      more: false,
    });
    const anyone = await builds.ofFunction('alex-a', { limit: 10, audience: 'anyone' });
    expect(anyone.items.map((row) => row.id)).toEqual(['b-3', 'b-2', 'b-1']);
  });

  it('answers one build in the API’s shape, times as ISO text, a private push’s only to an admin', async () => {
    expect(await builds.byId('b-1', 'anyone')).toEqual({
      id: 'b-1',
      name: 'alex-a',
      owner: 'alex',
      repo: 'fns',
      sha: 'b'.repeat(40),
      status: 'succeeded',
      image: null,
      contextDigest: 'sha256:d',
      startedAt: '2026-11-01T12:00:00.000Z',
      finishedAt: null,
      durationMs: null,
      reason: null,
      deliveryId: 'public-1',
      reusedBuildId: null,
      supersededBy: null,
      builder: null,
      imageDigest: null,
      platforms: null,
    });
    expect(await builds.byId('b-4', 'anyone')).toBeNull();
    expect(await builds.byId('b-4', 'admin')).toEqual(expect.objectContaining({ id: 'b-4' }));
  });
});

describe('pushes read model (postgres)', () => {
  it('lists a repository’s projected pushes newest first, case-insensitively; unknown and private ones only for an admin', async () => {
    const admin = await pushes.ofRepository('alex', 'FNS', { limit: 3, audience: 'admin' });
    expect(admin.items.map((row) => row.deliveryId)).toEqual(['unknown-4', 'private-3', 'public-2']);
    expect(admin.more).toBe(true);
    expect(
      (await pushes.ofRepository('alex', 'fns', { limit: 3, before: 2, audience: 'admin' })).items.map((row) => row.deliveryId),
    ).toEqual(['public-1']);
    expect((await pushes.ofRepository('ALEX', 'fns', { limit: 10, audience: 'anyone' })).items.map((row) => row.deliveryId)).toEqual([
      'public-2',
      'public-1',
    ]);
  });
});

describe('audit read model (postgres)', () => {
  const delivery = randomUUID();
  let pushed: string;
  let deployed: string;

  beforeAll(async () => {
    const append = async (stream: string, event: Event, causationId: string) =>
      (await backbone.store.append(stream, 'any', [event], { correlationId: delivery, causationId, actor: 'system:test' })).events[0]!
        .metadata.eventId;
    const sha = 'c'.repeat(40);
    pushed = await append(
      'repository-alex/fns',
      {
        type: 'PushReceived',
        data: pushData(sha, {
          deliveryId: delivery,
          owner: 'Alex',
          repo: 'Fns',
          cloneUrl: 'https://github.com/Alex/Fns.git',
          installationId: null,
          pusher: 'Alex',
          receivedAt: '2026-11-01T12:00:00Z',
        }),
      },
      delivery,
    );
    const ref = { buildId: 'b-9', name: 'alex-a', owner: 'Alex', repo: 'Fns', sha, contextDigest: 'sha256:d' };
    const started = await append('function-alex-a', { type: 'BuildStarted', data: ref }, pushed);
    deployed = await append(
      'function-alex-a',
      {
        type: 'FunctionDeployed',
        data: {
          name: 'alex-a',
          owner: 'Alex',
          repo: 'Fns',
          function: 'a',
          branch: 'master',
          sha,
          image: 'img:c',
          endpoint: 'http://gw/function/alex-a',
          deliveryId: delivery,
          buildId: 'b-9',
          pushSequence: 1,
        },
      },
      started,
    );
    await backbone.db.query(
      `INSERT INTO read_audit (position, event_id, type, stream, owner, repo, occurred_at, actor, correlation_id, causation_id)
       SELECT global_position, event_id::text, type, stream_id, lower(data->>'owner'), lower(data->>'repo'), occurred_at, actor, correlation_id, causation_id FROM events`,
    );
  });

  it('pages the trail oldest first, filtered by owner case-insensitively and by type', async () => {
    const first = await audit.trail({ owner: 'ALEX' }, { limit: 2 });
    expect(first.items.map((event) => event.type)).toEqual(['PushReceived', 'BuildStarted']);
    expect(first.more).toBe(true);
    const rest = await audit.trail({ owner: 'alex' }, { limit: 2, after: first.items[1]!.metadata.globalPosition });
    expect(rest.items.map((event) => event.metadata.eventId)).toEqual([deployed]);
    expect(rest.more).toBe(false);
    expect((await audit.trail({ type: 'BuildStarted', correlationId: delivery }, { limit: 10 })).items.map((event) => event.type)).toEqual([
      'BuildStarted',
    ]);
  });

  it('reads what one delivery caused after a position, in commit order', async () => {
    const all = await audit.ofDelivery(delivery, 0);
    expect(all.map((event) => event.type)).toEqual(['PushReceived', 'BuildStarted', 'FunctionDeployed']);
    expect((await audit.ofDelivery(delivery, all[0]!.metadata.globalPosition)).map((event) => event.type)).toEqual([
      'BuildStarted',
      'FunctionDeployed',
    ]);
  });

  it('follows causation from an event back to the push, nearest first', async () => {
    expect((await audit.causationChain(deployed)).map((event) => event.metadata.eventId)).toEqual([deployed, expect.any(String), pushed]);
    expect(await audit.causationChain(randomUUID())).toEqual([]);
  });
});

describe('secret holders read model (postgres)', () => {
  const holders = () => new PostgresSecretHoldersReadModel(backbone.db);
  const metadata = { correlationId: randomUUID(), causationId: randomUUID(), actor: 'system:test' } as const;
  const set = (owner: string, name: string, secret: string): Event => ({
    type: 'SecretSet',
    data: { owner, name, secret, fingerprint: 'sha256:f', source: 'api', deliveryId: null, updatedAt: '2026-11-01T12:00:00Z' },
  });
  const deleted = (owner: string, name: string, secret: string): Event => ({ type: 'SecretDeleted', data: { owner, name, secret } });
  const record = (owner: string, event: Event) => backbone.store.append(`owner-${owner.toLowerCase()}`, 'any', [event], metadata);

  it('answers the owner that set a deployed name last, as soon as it is recorded', async () => {
    expect(await holders().holderOf('alex-api-key')).toBeNull();
    await record('Alex', set('Alex', 'api-key', 'alex-api-key'));
    expect(await holders().holderOf('alex-api-key')).toBe('Alex');
    expect(await holders().holderOf('ALEX-API-KEY')).toBeNull();
  });

  it('frees a name its holder deleted, for whoever sets it next', async () => {
    await record('Alex', set('Alex', 'db-password', 'alex-db-password'));
    await record('Alex', deleted('Alex', 'db-password', 'alex-db-password'));
    expect(await holders().holderOf('alex-db-password')).toBeNull();
    await record('alex-db', set('alex-db', 'password', 'alex-db-password'));
    expect(await holders().holderOf('alex-db-password')).toBe('alex-db');
  });
});
