import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { eventually, logModes } from '../../../libs/infra/test/support/backbones.js';
import type { RepoFiles } from '../../../test/support/git-repos.js';
import { lastStatus, pushCommit, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';
import { bareEnv, root } from './support/spawn-api.js';

const secret = 'rollback-webhook-secret';
const ADMIN = 'rollback-admin-token';
const admin = { authorization: `Bearer ${ADMIN}` };
const FN = 'alexellis-fn1';

const files = (text: string): RepoFiles => ({
  'stack.yml': 'provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: node20\n    handler: ./fn1\n    image: fn1:0.1\n',
  'fn1/handler.js': `module.exports = async () => ${JSON.stringify(text)};\n`,
});
/** fn1 as a Dockerfile function: its build fails without BuildKit. */
const failing: RepoFiles = {
  'stack.yml': 'provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: dockerfile\n    handler: ./fn1\n    image: fn1:0.1\n',
  'fn1/Dockerfile': 'FROM scratch\n',
};

type StoredEvent = { type: string; actor: string; data: Record<string, unknown>; correlation_id: string };

describe.each(logModes)('rollback and delete, end to end through the spawned app ($name)', (mode) => {
  let world: PipelineWorld;
  let db: DataSource;

  beforeAll(async () => {
    world = await startPipelineWorld(secret, mode.kafka(), { ADMIN_TOKEN: ADMIN, ENABLE_DOCKERFILE_LANG: 'true' });
    db = await openDataSource(world.database.url);
  });

  afterAll(async () => {
    await db?.destroy();
    await world?.close();
  });

  const push = async (repoFiles: RepoFiles) => {
    const pushed = await pushCommit(world, secret, repoFiles);
    await eventually(
      async () => ['success', 'failure'].includes(lastStatus(world, pushed.sha, 'stack-deploy')?.state ?? ''),
      60_000,
      `stack-deploy status of ${pushed.sha.slice(0, 7)}`,
    );
    return { ...pushed, stack: lastStatus(world, pushed.sha, 'stack-deploy')! };
  };
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = admin) => {
    const response = await fetch(`${world.api.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> & { message: string } };
  };
  /** An API token of `owner`, issued by the admin. */
  const ownerToken = async (owner: string) => {
    const { status, body } = await api('POST', '/api/v1/admin/owner-tokens', { owner });
    expect(status).toBe(201);
    return body as unknown as { token: string; id: string };
  };
  const functionRow = async () => (await api('GET', `/api/v1/functions/${FN}`)).body;
  const buildOf = async (sha: string) => {
    let id: string | undefined;
    await eventually(
      async () => {
        const { body } = await api('GET', `/api/v1/functions/${FN}/builds?limit=100`);
        id = (body.items as { id: string; sha: string; status: string }[]).find(
          (build) => build.sha === sha && ['succeeded', 'reused', 'failed'].includes(build.status),
        )?.id;
        return id !== undefined;
      },
      30_000,
      `the build of ${sha.slice(0, 7)} in the read model`,
    );
    return id!;
  };
  const running = () => world.gateway.functions.get(FN) as { image: string; labels: Record<string, string> } | undefined;
  const imageOf = (sha: string) => `registry:5000/alexellis/fns-fn1:0.1-master-${sha.slice(0, 7)}`;
  const streamEvents = (): Promise<StoredEvent[]> =>
    db.query(`SELECT type, actor, data, correlation_id FROM events WHERE stream_id = $1 ORDER BY global_position`, [`function-${FN}`]);
  const settledAt = async (sha: string) => {
    await eventually(async () => running()?.image === imageOf(sha), 30_000, `the gateway running ${sha.slice(0, 7)}`);
    await eventually(
      async () => {
        const row = await functionRow();
        return row.status === 'ready' && row.sha === sha;
      },
      30_000,
      `the read model at ${sha.slice(0, 7)}`,
    );
  };

  type Pushed = { sha: string; stack: { state: string } };
  let v1: Pushed;
  let v2: Pushed;
  let v3: Pushed;

  it('goes back to v1’s build after v2: recorded with the caller and the reason, deployed as v1 was, shown by the read model and provenance', async () => {
    v1 = await push(files('one'));
    v2 = await push(files('two'));
    expect([v1.stack.state, v2.stack.state]).toEqual(['success', 'success']);
    await settledAt(v2.sha);
    const v1Build = await buildOf(v1.sha);
    const v2Build = await buildOf(v2.sha);

    const answer = await api('POST', `/api/v1/functions/${FN}/rollback`, { buildId: v1Build, reason: 'v2 answers 500' });
    expect(answer).toEqual({
      status: 202,
      body: {
        name: FN,
        buildId: v1Build,
        sha: v1.sha,
        image: imageOf(v1.sha),
        from: { buildId: v2Build, sha: v2.sha, image: imageOf(v2.sha) },
        reason: 'v2 answers 500',
        actor: 'admin:admin-token',
      },
    });
    await settledAt(v1.sha);
    expect(running()!.labels['com.openfaas.cloud.git-sha']).toBe(v1.sha);

    const events = await streamEvents();
    const rolledBack = events.findIndex((event) => event.type === 'FunctionRolledBack');
    expect(events.slice(rolledBack).map((event) => [event.type, event.actor])).toEqual([
      ['FunctionRolledBack', 'admin:admin-token'],
      ['FunctionDeployed', 'system:pipeline'],
    ]);
    expect(events[rolledBack]!.data).toMatchObject({ buildId: v1Build, sha: v1.sha, fromSha: v2.sha, reason: 'v2 answers 500' });
    expect(events[rolledBack + 1]!.data).toMatchObject({ sha: v1.sha, buildId: v1Build, image: imageOf(v1.sha) });
    // Nothing was built for it, and no commit status was reported for an old commit.
    expect(events.filter((event) => event.correlation_id === events[rolledBack]!.correlation_id).map((event) => event.type)).toEqual([
      'FunctionRolledBack',
      'FunctionDeployed',
    ]);

    await eventually(async () => (await api('GET', `/api/v1/functions/${FN}/provenance`)).body.sha === v1.sha, 30_000, 'provenance');
    const provenance = (await api('GET', `/api/v1/functions/${FN}/provenance`)).body as unknown as {
      chain: { type: string; actor: string; data: Record<string, unknown> }[];
    };
    expect(provenance.chain.slice(0, 2).map((event) => [event.type, event.actor])).toEqual([
      ['FunctionDeployed', 'system:pipeline'],
      ['FunctionRolledBack', 'admin:admin-token'],
    ]);
    expect(provenance.chain[1]!.data).toMatchObject({ reason: 'v2 answers 500', buildId: v1Build });
    // …then on through the build it went back to, to the push that build was made from.
    expect(provenance.chain.slice(2).map((event) => event.type)).toEqual(['BuildSucceeded', 'SourceFetched', 'PushReceived']);
    expect(provenance.chain.at(-1)!.data).toMatchObject({ sha: v1.sha });
  });

  it('refuses what the rules refuse, with a message saying why', async () => {
    const v1Build = await buildOf(v1.sha);
    const refused = async (path: string, body: unknown) => {
      const { status, body: answer } = await api('POST', path, body);
      return [status, answer.message];
    };
    expect(await refused(`/api/v1/functions/${FN}/rollback`, { buildId: 'no-such-build' })).toEqual([
      404,
      `no build of ${FN} at build no-such-build`,
    ]);
    expect(await refused('/api/v1/functions/alexellis-nothing/rollback', { buildId: v1Build })).toEqual([
      404,
      'no function alexellis-nothing',
    ]);
    expect(await refused(`/api/v1/functions/${FN}/rollback`, { sha: v1.sha })).toEqual([
      409,
      `${FN} already runs the image of build ${v1Build} of ${FN} (${v1.sha.slice(0, 7)})`,
    ]);
    expect(await refused(`/api/v1/functions/${FN}/rollback`, { sha: 'f'.repeat(40) })).toEqual([
      404,
      `no build of ${FN} at commit fffffff`,
    ]);
    expect(await refused(`/api/v1/functions/${FN}/rollback`, {})).toEqual([400, 'give either buildId or sha']);
    expect(await refused(`/api/v1/functions/${FN}/rollback`, { buildId: v1Build, sha: v1.sha })).toEqual([
      400,
      'give either buildId or sha',
    ]);
    expect(await refused(`/api/v1/functions/${FN}/rollback`, { sha: 'main' })).toEqual([
      400,
      'sha must be a commit SHA (7 to 40 hex characters)',
    ]);
    expect(await refused(`/api/v1/functions/${FN}/rollback`, { buildId: v1Build, to: 'v1' })).toEqual([400, 'the body has no field "to"']);
    expect((await api('POST', `/api/v1/functions/${FN}/rollback`, { buildId: v1Build }, {})).status).toBe(401);
    expect((await api('DELETE', `/api/v1/functions/${FN}`, undefined, { authorization: 'Bearer wrong' })).status).toBe(403);
    // Another owner's token may manage its own functions, not alexellis's.
    const bob = { authorization: `Bearer ${(await ownerToken('bob')).token}` };
    for (const [method, path, body] of [
      ['POST', `/api/v1/functions/${FN}/rollback`, { buildId: v1Build }],
      ['DELETE', `/api/v1/functions/${FN}`, undefined],
    ] as const)
      expect(await api(method, path, body, bob)).toEqual({
        status: 403,
        body: { message: `only an admin or the owner of ${FN} may change it` },
      });

    // A build of another function (alexellis/other's web) is not one of fn1's.
    const web = await pushCommit(
      world,
      secret,
      {
        'stack.yml': 'provider:\n  name: openfaas\nfunctions:\n  web:\n    lang: node20\n    handler: ./web\n    image: web:0.1\n',
        'web/handler.js': 'module.exports = async () => "web";\n',
      },
      'alexellis',
      'other',
    );
    let webBuild: string | undefined;
    await eventually(
      async () => {
        const { body } = await api('GET', '/api/v1/functions/alexellis-web/builds');
        webBuild = (body.items as { id: string; sha: string; status: string }[] | undefined)?.find(
          (build) => build.sha === web.sha && build.status === 'succeeded',
        )?.id;
        return webBuild !== undefined;
      },
      60_000,
      'the build of alexellis-web',
    );
    expect(await refused(`/api/v1/functions/${FN}/rollback`, { buildId: webBuild })).toEqual([
      409,
      `build ${webBuild} is a build of alexellis-web, not of ${FN}`,
    ]);

    const broken = await push(failing);
    expect(broken.stack.state).toBe('failure');
    const failedBuild = await buildOf(broken.sha);
    expect(await refused(`/api/v1/functions/${FN}/rollback`, { buildId: failedBuild })).toEqual([
      409,
      `build ${failedBuild} of ${FN} (${broken.sha.slice(0, 7)}) failed: only a successful build can take over again`,
    ]);
    // v1 (the rollback) still runs.
    expect(running()!.image).toBe(imageOf(v1.sha));
  });

  it('lets the next push deploy normally', async () => {
    v3 = await push(files('three'));
    expect(v3.stack.state).toBe('success');
    await settledAt(v3.sha);
  });

  it('opens a build’s log to its owner’s token, not to another owner’s', async () => {
    const build = await buildOf(v3.sha);
    const log = (token: string) => fetch(`${world.api.url}/api/v1/builds/${build}/log`, { headers: { authorization: `Bearer ${token}` } });
    const own = await log((await ownerToken('alexellis')).token);
    expect(own.status).toBe(200);
    expect(await own.text()).toMatch(/built registry:5000\/alexellis\/fns-fn1/);
    const other = await log((await ownerToken('bob')).token);
    expect(other.status).toBe(403);
    expect(await other.json()).toEqual({ message: 'this token does not open this build log' });
    expect((await log('flo_not-a-token')).status).toBe(403);
  });

  it('keeps the gateway and the read model in step when a rollback lands while a push is deploying', async () => {
    const v2Build = await buildOf(v2.sha);
    const held = world.gateway.holdNextDeploy();
    const v4 = pushCommit(world, secret, files('four'));
    await held.reached;
    // v4 is on its way into the gateway, not yet recorded: the rollback is decided against v3 and holds against v4.
    // Asked by the owner with its own token this time.
    const alexellis = await ownerToken('alexellis');
    const answer = await api(
      'POST',
      `/api/v1/functions/${FN}/rollback`,
      { buildId: v2Build, reason: 'race' },
      { authorization: `Bearer ${alexellis.token}` },
    );
    expect([answer.status, answer.body.actor]).toEqual([202, `owner:alexellis:${alexellis.id}`]);
    held.release();
    const { sha } = await v4;
    await eventually(async () => lastStatus(world, sha, 'stack-deploy')?.state === 'failure', 60_000, 'v4 settled');
    expect(lastStatus(world, sha, FN)?.description).toBe(`not deployed: superseded by ${v2.sha.slice(0, 7)}`);
    await settledAt(v2.sha);
    const [asked, last] = (await streamEvents())
      .filter((event) => event.type === 'FunctionRolledBack' || event.type === 'FunctionDeployed')
      .slice(-2);
    expect([asked!.type, asked!.actor, asked!.data.reason]).toEqual(['FunctionRolledBack', `owner:alexellis:${alexellis.id}`, 'race']);
    expect([last!.type, last!.data.sha]).toEqual(['FunctionDeployed', v2.sha]);
  });

  it('deletes the function from the gateway, recorded with the caller and reason; a later push of the same stack brings it back', async () => {
    const answer = await api('DELETE', `/api/v1/functions/${FN}`, { reason: 'moving it' });
    expect(answer).toEqual({ status: 202, body: { name: FN, status: 'removed', reason: 'moving it', actor: 'admin:admin-token' } });
    await eventually(async () => !world.gateway.functions.has(FN), 30_000, 'the function gone from the gateway');
    await eventually(async () => (await functionRow()).status === 'removed', 30_000, 'the read model removed');
    expect((await functionRow()).reason).toBe('removed: deleted (moving it)');
    const removed = (await streamEvents()).at(-1)!;
    expect([removed.type, removed.actor, removed.data]).toEqual([
      'FunctionRemoved',
      'admin:admin-token',
      { name: FN, owner: 'alexellis', repo: 'fns', reason: 'deleted', note: 'moving it' },
    ]);
    // Deleting again changes nothing; a rollback of a removed function is refused.
    expect((await api('DELETE', `/api/v1/functions/${FN}`)).status).toBe(202);
    expect((await streamEvents()).at(-1)!.type).toBe('FunctionRemoved');
    expect((await api('POST', `/api/v1/functions/${FN}/rollback`, { sha: v1.sha })).body.message).toBe(
      `${FN} was removed: push its stack again to bring it back`,
    );

    // v2's stack again: its build is reused, and it deploys.
    const again = await push(files('two'));
    expect(again.stack.state).toBe('success');
    const recorded: StoredEvent[] = await db.query(
      `SELECT type, actor, data, correlation_id FROM events WHERE correlation_id = $1 AND stream_id = $2 ORDER BY global_position`,
      [again.deliveryId, `function-${FN}`],
    );
    expect(recorded.map((event) => event.type)).toEqual(['BuildReused', 'FunctionDeployed']);
    await eventually(async () => running() !== undefined, 30_000, 'the function back on the gateway');
    await eventually(async () => (await functionRow()).status === 'ready', 30_000, 'the read model ready again');
  });

  /** The faasline CLI against this world's API, as the admin, without a terminal. */
  const faasline = (...args: string[]) => faaslineWith({}, ...args);
  const faaslineWith = (env: Record<string, string>, ...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(root, 'bin/faasline.js'), ...args], {
        cwd: root,
        env: { ...bareEnv(), ADMIN_TOKEN: ADMIN, FAASLINE_API: world.api.url, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('faasline rollback and delete: help, usage errors, the build before the running one, and a deletion without a terminal', async () => {
    for (const command of ['rollback', 'delete']) {
      const help = await faasline(command, '--help');
      expect([help.code, help.stdout]).toEqual([0, expect.stringContaining(`Usage: faasline ${command} [options] <function>`)]);
      const unknown = await faasline(command, FN, '--bogus');
      expect([unknown.code, unknown.stderr]).toEqual([2, "faasline: unknown option '--bogus'\n"]);
    }
    // Running now: the reused image of v2 (pushed again). Before it: v4's build was superseded, v3's succeeded.
    const back = await faasline('rollback', FN, '--reason', 'from the cli', '--json');
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({
      name: FN,
      sha: v3.sha,
      image: imageOf(v3.sha),
      reason: 'from the cli',
      status: 'ready',
    });
    expect(running()!.image).toBe(imageOf(v3.sha));
    const refused = await faasline('rollback', FN, '--to', 'no-such-build');
    expect([refused.code, refused.stderr]).toEqual([
      1,
      `faasline: POST /api/v1/functions/${FN}/rollback answered 404: no build of ${FN} at build no-such-build\n`,
    ]);

    const asked = await faasline('delete', FN);
    expect([asked.code, asked.stderr]).toEqual([
      1,
      `faasline: delete ${FN}: add --yes to delete without being asked (no terminal to ask on)\n`,
    ]);
    expect(running()).toBeDefined();
    // The owner, with its own token (FAASLINE_TOKEN).
    const owner = await ownerToken('alexellis');
    const deleted = await faaslineWith({ FAASLINE_TOKEN: owner.token }, 'delete', FN, '--yes', '--reason', 'done', '--json');
    expect([deleted.code, JSON.parse(deleted.stdout)]).toEqual([
      0,
      { name: FN, status: 'removed', reason: 'done', actor: `owner:alexellis:${owner.id}` },
    ]);
    await eventually(async () => !world.gateway.functions.has(FN), 30_000, 'the function gone from the gateway');
  });
});
