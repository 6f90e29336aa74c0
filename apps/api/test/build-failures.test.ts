import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import type { RepoFiles } from '../../../test/support/git-repos.js';
import { lastStatus, pushCommit, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';

const secret = 'build-failures-webhook-secret';
const FN = 'alexellis-fn1';
/** The build step's attempts at an infrastructure error (MAX_ATTEMPTS in build.step.ts). */
const ATTEMPTS = 3;

const stack = (functions: string) => `provider:\n  name: openfaas\nfunctions:\n${functions}`;
const node = (fn: string, extra = '') => `  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: ${fn}:0.1\n${extra}`;
const files = (text: string): RepoFiles => ({
  'stack.yml': stack(node('fn1')),
  'fn1/handler.js': `module.exports = async () => ${JSON.stringify(text)};\n`,
});

type StoredEvent = { type: string; data: Record<string, unknown> };

/**
 * Where BUILDKIT_ADDR points: no daemon, only a socket that drops every connection (the builder is down), or, when
 * told to, an HTTP/2 server that takes a build's gRPC calls and holds them until the test lets them fail as a lost
 * daemon's do (UNAVAILABLE): a build that is at the builder for exactly as long as the test needs.
 */
async function brokenBuilder() {
  let holding = false;
  let connections = 0;
  const solves: ServerHttp2Stream[] = [];
  const held = new Set<ServerHttp2Stream>();
  const sessions = new Set<ServerHttp2Session>();
  const server: Http2Server = createServer();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    if (!holding) socket.destroy();
  });
  server.on('sessionError', () => undefined);
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    held.add(stream);
    if (String(headers[':path']).endsWith('/Solve')) solves.push(stream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const drop = () => {
    holding = false;
    for (const stream of held) {
      if (!stream.closed)
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'the daemon went away' },
          { endStream: true },
        );
    }
    held.clear();
    // A daemon that went away takes its connections with it: the next call has to connect again (and is refused).
    for (const session of sessions) session.close();
  };
  return {
    address: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    solves: () => solves.length,
    hold: () => void (holding = true),
    drop,
    close: () => {
      drop();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('builds that cannot run, and stacks with nothing to build', () => {
  let world: PipelineWorld;
  let db: DataSource;
  let builder: Awaited<ReturnType<typeof brokenBuilder>>;

  beforeAll(async () => {
    builder = await brokenBuilder();
    world = await startPipelineWorld(secret, null, { BUILDKIT_ADDR: builder.address });
    db = await openDataSource(world.database.url);
  });
  afterAll(async () => {
    await db?.destroy();
    await world?.close();
    await builder?.close();
  });

  const push = (repoFiles: RepoFiles) => pushCommit(world, secret, repoFiles);
  const statusOf = (sha: string, context: string) => lastStatus(world, sha, context);
  const settled = (sha: string) =>
    eventually(async () => statusOf(sha, 'stack-deploy')?.state === 'failure', 110_000, `${sha.slice(0, 7)} to fail`);
  const events = (deliveryId: string): Promise<StoredEvent[]> =>
    db.query(`SELECT type, data FROM events WHERE correlation_id = $1 ORDER BY global_position`, [deliveryId]);
  const buildAttempts = async (sha: string): Promise<number[]> =>
    (await db.query(`SELECT attempts FROM pipeline_jobs WHERE step = 'build' AND payload->'command'->'push'->>'sha' = $1`, [sha])).map(
      (row: { attempts: number }) => row.attempts,
    );
  const deploysOf = (name: string) =>
    world.gateway.calls.filter(
      (call) =>
        call.path === '/system/functions' && ['PUT', 'POST'].includes(call.method) && (call.body as { service?: string }).service === name,
    );

  it('reports "no function can be built" when the stack file rejects every function, and builds nothing', async () => {
    const rejected = await push({ 'stack.yml': stack(`${node('fn1')}${node('fn2').replace('lang: node20', 'lang: cobol')}`) });
    await settled(rejected.sha);
    // Each function's status is its own report: it may arrive after the stack's.
    await eventually(
      async () => statusOf(rejected.sha, FN) !== undefined && statusOf(rejected.sha, 'alexellis-fn2') !== undefined,
      30_000,
      'the functions’ statuses',
    );
    expect(statusOf(rejected.sha, 'stack-deploy')).toMatchObject({
      state: 'failure',
      description: expect.stringMatching(/^no function can be built: fn1: .*handler.*; fn2: unknown language "cobol"/),
    });
    expect(statusOf(rejected.sha, FN)).toMatchObject({ state: 'failure', description: expect.stringMatching(/^fn1: .*handler/) });
    expect(statusOf(rejected.sha, 'alexellis-fn2')).toMatchObject({
      state: 'failure',
      description: expect.stringMatching(/^fn2: .*cobol/),
    });
    const recorded = await events(rejected.deliveryId);
    expect(
      recorded
        .filter((event) => event.type === 'SourceFetched')
        .map((event) => [(event.data.functions as unknown[]).length, (event.data.rejected as unknown[]).length]),
    ).toEqual([[0, 2]]);
    expect(recorded.map((event) => event.type)).not.toContain('BuildStarted');
    expect(builder.connections()).toBe(0);
    expect(deploysOf(FN)).toEqual([]);
  }, 120_000);

  it('fails a build whose context is gone by the time it is retried, naming the context', async () => {
    builder.hold();
    const lost = await push(files('context lost'));
    // The first attempt is at the builder, its context already read: remove the stored context, then let it fail.
    await eventually(async () => builder.solves() === 1, 60_000, 'the first attempt to reach the builder');
    const [{ digest }] = await db.query(
      `SELECT data->'functions'->0->>'contextDigest' AS digest FROM events WHERE correlation_id = $1 AND type = 'SourceFetched'`,
      [lost.deliveryId],
    );
    const stored = async () => (await db.query(`SELECT count(*)::int AS n FROM build_contexts WHERE digest = $1`, [digest]))[0].n;
    expect(await stored()).toBe(1);
    await db.query(`DELETE FROM build_contexts WHERE digest = $1`, [digest]);
    expect(await stored()).toBe(0);
    // The attempt the builder holds now is answered "daemon went away"; the next one finds the context gone.
    const [atTheBuilder] = await buildAttempts(lost.sha);
    // The builder was never refused before this test, so the gRPC channel had no reconnect backoff to fail fast on.
    expect(atTheBuilder).toBeLessThan(ATTEMPTS);
    builder.drop();
    await settled(lost.sha);
    const reason = `build context ${digest} is missing`;
    expect((await events(lost.deliveryId)).filter((event) => event.type === 'BuildFailed').map((event) => event.data.reason)).toEqual([
      reason,
    ]);
    expect(await buildAttempts(lost.sha)).toEqual([atTheBuilder! + 1]);
    expect(statusOf(lost.sha, FN)).toMatchObject({ state: 'failure', description: `build failed: ${reason}` });
    expect(deploysOf(FN)).toEqual([]);
  }, 120_000);

  it('retries a builder that is down, then fails the build with a log that says so; nothing is deployed', async () => {
    const down = await push(files('builder down'));
    await settled(down.sha);
    const reason = 'the builder failed; the build log has the details';
    const failed = (await events(down.deliveryId)).filter((event) => event.type === 'BuildFailed');
    expect(failed.map((event) => event.data.reason)).toEqual([reason]);
    expect(failed[0]!.data.logTail).toMatch(/build infrastructure error: BuildKit: /);
    expect(await buildAttempts(down.sha)).toEqual([ATTEMPTS]);
    expect(statusOf(down.sha, FN)).toMatchObject({ state: 'failure', description: `build failed: ${reason}` });
    expect(statusOf(down.sha, 'stack-deploy')).toMatchObject({
      state: 'failure',
      description: expect.stringMatching(/^1 of 1 function\(s\) failed: fn1: build failed: /),
    });
    const link = new URL(statusOf(down.sha, FN)!.targetUrl!);
    const log = await fetch(`${world.api.url}${link.pathname}${link.search}`);
    expect(log.status).toBe(200);
    expect(await log.text()).toMatch(/build infrastructure error: BuildKit: [\s\S]*build failed: the builder failed/);
    expect(deploysOf(FN)).toEqual([]);
  }, 120_000);
});
