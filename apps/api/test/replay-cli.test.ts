import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeSyntheticHistory } from '../../../scripts/synthetic-history.js';
import { openDataSource } from '#infra';
import { READ_MODELS_LOCK } from '#projections';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { answerViolation, type OpenApiDocument } from './support/openapi-check.js';
import { bareEnv, root, start, stop } from './support/spawn-api.js';

const ADMIN_TOKEN = `admin-${randomUUID()}`;

/** Runs `npx faasline <args>` the way a user would and resolves with its exit code and output. */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [join(root, 'bin/faasline.js'), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

describe('replay and the event log from the API and the CLI', () => {
  const dataDir = join(tmpdir(), `faasline-replay-${randomUUID()}`);
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof start>>;
  let head: number;
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  /** Runs `action` while this test holds the read models' lock (the one a replay's swap takes exclusively). */
  const whileReadModelsLocked = async <T>(action: () => Promise<T>): Promise<T> => {
    const db = await openDataSource(database.url);
    const runner = db.createQueryRunner();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [READ_MODELS_LOCK]);
      return await action();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [READ_MODELS_LOCK]);
      await runner.release();
      await db.destroy();
    }
  };

  beforeAll(async () => {
    database = await provisionTestDatabase();
    app = await start({
      ...bareEnv(),
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      ADMIN_TOKEN,
      OPENFAAS_URL: 'http://127.0.0.1:9',
      FAASLINE_PIPELINE: 'separate',
    });
    head = await writeSyntheticHistory(database.url, 20_000);
    await eventually(
      async () =>
        /faasline_subscriber_lag_events\{subscriber="projector:read-models"\} 0$/m.test(await (await fetch(`${app.url}/metrics`)).text()),
      60_000,
      'the read models to catch up',
    );
  }, 120_000);
  afterAll(async () => {
    await stop(app.child);
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('exposes projection lag in /metrics', async () => {
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^faasline_projection_lag_seconds 0$/m);
    expect(metrics).toContain(`faasline_events_head_position ${head}`);
  });

  it('guards the replay routes: 401 without a token, 403 with a wrong one, 404 for an unknown replay', async () => {
    expect((await fetch(`${app.url}/api/v1/admin/replay`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${app.url}/api/v1/admin/replay`, { method: 'POST', headers: { authorization: 'Bearer nope' } })).status).toBe(403);
    expect((await fetch(`${app.url}/api/v1/admin/replay/${randomUUID()}`, { headers: admin })).status).toBe(404);
  });

  it('POST /api/v1/admin/replay answers 202 with an id, 409 while it runs, and the report ends done with equal checksums', async () => {
    const document = (await (await fetch(`${app.url}/api/docs-json`)).json()) as OpenApiDocument;
    // The replay cannot swap its tables in while the read models' lock is held here: it is surely still running.
    const [started, second] = await whileReadModelsLocked(async () => {
      const first = await fetch(`${app.url}/api/v1/admin/replay`, { method: 'POST', headers: admin });
      return [first, await fetch(`${app.url}/api/v1/admin/replay`, { method: 'POST', headers: admin })];
    });
    expect(started.status).toBe(202);
    const startedBody = await started.json();
    expect(answerViolation(document, 'POST', '/api/v1/admin/replay', 202, startedBody)).toBeNull();
    const { id } = startedBody as { id: string };
    expect(second.status).toBe(409);
    expect(answerViolation(document, 'POST', '/api/v1/admin/replay', 409, await second.json())).toBeNull();
    let report: Record<string, unknown> = {};
    await eventually(
      async () => {
        report = (await (await fetch(`${app.url}/api/v1/admin/replay/${id}`, { headers: admin })).json()) as Record<string, unknown>;
        return report.status !== 'running';
      },
      60_000,
      'the replay to finish',
    );
    expect(report).toMatchObject({ id, status: 'done', actor: 'admin:admin-token', eventsProcessed: head, error: null });
    expect(report.checksumAfter).toBe(report.checksumBefore);
    expect(answerViolation(document, 'GET', `/api/v1/admin/replay/${id}`, 200, report)).toBeNull();
    expect(Object.keys(report).sort()).toEqual([
      'actor',
      'checksumAfter',
      'checksumBefore',
      'error',
      'eventsProcessed',
      'eventsTotal',
      'finishedAt',
      'id',
      'startedAt',
      'status',
    ]);
  }, 90_000);

  it('faasline replay shows progress and reports equal checksums, while the read routes keep answering the same', async () => {
    const read = async () => {
      const functions = await fetch(`${app.url}/api/v1/functions?limit=500`);
      const builds = await fetch(`${app.url}/api/v1/functions/owner3-repo3-fn1/builds?limit=500`);
      const pushes = await fetch(`${app.url}/api/v1/repos/owner3/repo3/pushes?limit=500`);
      return JSON.stringify([
        functions.status,
        await functions.json(),
        builds.status,
        await builds.json(),
        pushes.status,
        await pushes.json(),
      ]);
    };
    const before = await read();
    expect(before).toContain('owner3-repo3-fn1');
    let replaying = true;
    const answers = new Set<string>();
    let reads = 0;
    const reader = (async () => {
      while (replaying) {
        answers.add(await read());
        reads++;
      }
    })();
    const { code, out } = await cli(['replay', '--api', app.url], { ...process.env, ADMIN_TOKEN });
    replaying = false;
    await reader;
    expect(reads).toBeGreaterThan(3);
    expect([...answers]).toEqual([before]);
    expect(code).toBe(0);
    expect(out).toMatch(/^replay [0-9a-f-]{36} started$/m);
    expect(out).toContain(`done: ${head.toLocaleString('en-US')} events`);
    expect(out).toMatch(/checksum before ([0-9a-f]{32}), after \1: equal/);
  }, 90_000);

  it('faasline events filters the log and --json prints the audit shape', async () => {
    const { code, out } = await cli(['events', '--api', app.url, '--type', 'PushIgnored', '--owner', 'OWNER3', '--json'], {
      ...process.env,
      ADMIN_TOKEN,
    });
    expect(code).toBe(0);
    const lines = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; position: number; data: { owner: string } });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((event) => event.type === 'PushIgnored' && event.data.owner === 'owner3')).toBe(true);
    expect(lines.map((event) => event.position)).toEqual([...lines.map((event) => event.position)].sort((a, b) => a - b));
    const all = await cli(['events', '--api', app.url], { ...process.env, ADMIN_TOKEN });
    expect(all.out.trim().split('\n')).toHaveLength(head);
  }, 90_000);

  it('faasline events --follow prints events appended after it started', async () => {
    const child = spawn(
      process.execPath,
      [
        join(root, 'bin/faasline.js'),
        'events',
        '--api',
        app.url,
        '--follow',
        '--type',
        'PushReceived',
        '--json',
        '--since',
        new Date(Date.UTC(2026, 0, 1) + (head + 1) * 10).toISOString(),
      ],
      {
        cwd: root,
        env: { ...process.env, ADMIN_TOKEN },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      // Synthetic events are dated by their position, so only these later ones are after the --since instant.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await writeSyntheticHistory(database.url, 400, { seed: 'followed' });
      const db = await openDataSource(database.url);
      const appended: { position: string }[] = await db
        .query(
          `SELECT global_position AS position FROM events WHERE type = 'PushReceived' AND global_position > $1 ORDER BY global_position`,
          [head],
        )
        .finally(() => db.destroy());
      expect(appended.length).toBeGreaterThan(0);
      const printed = () =>
        out
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { type: string; position: number });
      await eventually(async () => printed().length >= appended.length, 30_000, 'followed events');
      // Every PushReceived appended after it started, once each and in order, and nothing else.
      expect(printed().map((event) => event.type)).toEqual(appended.map(() => 'PushReceived'));
      expect(printed().map((event) => event.position)).toEqual(appended.map((row) => Number(row.position)));
    } finally {
      child.kill('SIGINT');
    }
  }, 60_000);
});
