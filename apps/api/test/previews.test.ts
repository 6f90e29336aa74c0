import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { eventually, logModes } from '../../../libs/infra/test/support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { gitFixtures, type GitFixtures, type RepoFiles } from '../../../test/support/git-repos.js';
import { deliverPush } from '../../../test/support/github-payloads.js';
import { INSTALLATION, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';
import { start, gatewayOf, pushEnv } from './support/spawn-api.js';

const secret = 'previews-webhook-secret';
const ZERO_SHA = '0'.repeat(40);

const repo = (text: string): RepoFiles => ({
  'stack.yml': 'provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: node20\n    handler: ./fn1\n    image: fn1:0.1\n',
  'fn1/handler.js': `module.exports = async () => ${JSON.stringify(text)};\n`,
});

type StoredEvent = { type: string; data: Record<string, unknown> };

/** The spawned app in embedded mode (embedded gateway, statuses recorded as events), with `env` on top. */
async function startApp(env: NodeJS.ProcessEnv) {
  const database: TestDatabase = await provisionTestDatabase();
  const db: DataSource = await openDataSource(database.url);
  const git: GitFixtures = await gitFixtures();
  const dataDir = mkdtempSync(join(tmpdir(), 'faasline-previews-'));
  const api: { child: ChildProcess; url: string; output: () => string } = await start({
    ...pushEnv(database, dataDir, git, secret),
    GATEWAY_PORT: '0',
    ...env,
  });
  const gatewayUrl = await gatewayOf(api);

  const events = (where: string, params: unknown[]): Promise<StoredEvent[]> =>
    db.query(`SELECT type, data FROM events WHERE ${where} ORDER BY global_position`, params);
  const delivered = (deliveryId: string) => events('correlation_id = $1', [deliveryId]);

  /** Pushes `files` (or deletes the branch) to `branch`; resolves once the push settled. */
  const push = async (branch: string, files: RepoFiles | 'delete', owner = { login: 'alexellis', id: 6358735 }) => {
    const sha = files === 'delete' ? ZERO_SHA : git.commit(owner.login, 'fns', files);
    const { deliveryId, status } = await deliverPush(api.url, secret, {
      owner: owner.login,
      repo: 'fns',
      sha,
      ref: `refs/heads/${branch}`,
      cloneUrl: git.cloneUrl(owner.login, 'fns'),
      ownerId: owner.id,
      repositoryId: owner.id + 1,
    });
    expect(status).toBe(202);
    const done = async () =>
      (await delivered(deliveryId)).some(
        (e) =>
          e.type === 'PushIgnored' ||
          (e.type === 'CommitStatusReported' && e.data.context === 'stack-deploy' && e.data.state !== 'pending'),
      );
    await eventually(done, 90_000, `the push to ${branch} to settle`);
    return { sha, deliveryId, events: () => delivered(deliveryId) };
  };

  const invoke = async (name: string) => {
    const response = await fetch(`${gatewayUrl}/function/${name}`);
    return { status: response.status, body: await response.text() };
  };
  const readModel = async (name: string) => {
    const response = await fetch(`${api.url}/api/v1/functions/${name}`);
    return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : null;
  };

  const close = async () => {
    api.child.kill('SIGKILL');
    await git.close();
    await db.destroy();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { push, invoke, readModel, events, gatewayUrl, close };
}

describe('branch previews (PREVIEW_BRANCHES=true) on the spawned app', () => {
  let app: Awaited<ReturnType<typeof startApp>>;
  let production: { sha: string };
  let preview: Awaited<ReturnType<Awaited<ReturnType<typeof startApp>>['push']>>;

  beforeAll(async () => {
    app = await startApp({ PREVIEW_BRANCHES: 'true' });
    production = await app.push('master', repo('main code'));
    preview = await app.push('feature/x', repo('branch code'));
  }, 240_000);

  afterAll(async () => {
    await app?.close();
  });

  it('deploys the branch as alexellis-fn1-feature-x, answering with the branch’s code while production answers main’s', async () => {
    expect(await app.invoke('alexellis-fn1-feature-x')).toEqual({ status: 200, body: 'branch code' });
    expect(await app.invoke('alexellis-fn1')).toEqual({ status: 200, body: 'main code' });
    const deployed = (await preview.events()).filter((e) => e.type === 'FunctionDeployed').map((e) => e.data.name);
    expect(deployed).toEqual(['alexellis-fn1-feature-x']);
  });

  it('names the preview’s URL in the function’s status and says the stack status is a preview', async () => {
    const statuses = (await preview.events()).filter((e) => e.type === 'CommitStatusReported').map((e) => e.data);
    expect(statuses.filter((s) => s.context === 'alexellis-fn1-feature-x').at(-1)).toMatchObject({
      state: 'success',
      targetUrl: `${app.gatewayUrl}/function/alexellis-fn1-feature-x`,
    });
    expect(statuses.filter((s) => s.context === 'stack-deploy').at(-1)).toMatchObject({
      state: 'success',
      description: 'preview of feature/x is successfully deployed',
    });
  });

  it('shows the preview with its branch in the read model, beside production', async () => {
    expect(await app.readModel('alexellis-fn1-feature-x')).toMatchObject({
      function: 'fn1',
      branch: 'feature/x',
      preview: true,
      status: 'ready',
      sha: preview.sha,
    });
    expect(await app.readModel('alexellis-fn1')).toMatchObject({ branch: 'master', preview: false, sha: production.sha });
  });

  it('a production push leaves the preview running', async () => {
    await app.push('master', repo('main code v2'));
    await eventually(async () => (await app.invoke('alexellis-fn1')).body === 'main code v2', 60_000, 'production v2');
    expect(await app.invoke('alexellis-fn1-feature-x')).toEqual({ status: 200, body: 'branch code' });
  });

  it('keeps the preview’s name its owner’s: another owner whose login and stack key make the same name is refused', async () => {
    const stack = 'provider:\n  name: openfaas\nfunctions:\n  feature-x:\n    lang: node20\n    handler: ./fn1\n    image: fn1:0.1\n';
    const squatter = await app.push('master', { ...repo('squatted'), 'stack.yml': stack }, { login: 'alexellis-fn1', id: 4242 });
    const failures = (await squatter.events()).filter((e) => e.type === 'DeployFailed').map((e) => e.data);
    expect(failures).toEqual([
      expect.objectContaining({ name: 'alexellis-fn1-feature-x', reason: expect.stringMatching(/belongs to GitHub owner alexellis\b/) }),
    ]);
    expect((await squatter.events()).some((e) => e.type === 'FunctionDeployed')).toBe(false);
    expect(await app.invoke('alexellis-fn1-feature-x')).toEqual({ status: 200, body: 'branch code' });
  });

  it('deleting the branch removes its preview, recorded, and never production', async () => {
    const deletion = await app.push('feature/x', 'delete');
    expect((await deletion.events()).map((e) => e.type)).toContain('PushIgnored');
    await eventually(async () => (await app.invoke('alexellis-fn1-feature-x')).status === 404, 60_000, 'the preview to go');
    const removed = await app.events(`type = 'FunctionRemoved'`, []);
    expect(removed.map((e) => e.data)).toEqual([
      { name: 'alexellis-fn1-feature-x', owner: 'alexellis', repo: 'fns', reason: 'branch-deleted' },
    ]);
    await eventually(async () => (await app.readModel('alexellis-fn1-feature-x'))?.status === 'removed', 30_000, 'the read model');
    expect(await app.invoke('alexellis-fn1')).toEqual({ status: 200, body: 'main code v2' });
  });
});

describe('branch previews expire after PREVIEW_TTL; unmatched branches stay ignored', () => {
  let app: Awaited<ReturnType<typeof startApp>>;

  beforeAll(async () => {
    app = await startApp({ PREVIEW_BRANCHES: 'feature/*,fix-*', PREVIEW_TTL: '3s' });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  it('ignores a push to a branch no pattern matches, as without previews', async () => {
    const pushed = await app.push('dev', repo('dev code'));
    expect((await pushed.events()).map((e) => [e.type, e.data.reason])).toEqual([
      ['PushIgnored', 'skipping build for: dev branch, the build branch is: master'],
    ]);
  });

  it('removes a preview whose branch saw no push for PREVIEW_TTL', async () => {
    const pushed = await app.push('fix-login', repo('fix code'));
    expect((await pushed.events()).filter((e) => e.type === 'FunctionDeployed').map((e) => e.data.name)).toEqual([
      'alexellis-fn1-fix-login',
    ]);
    await eventually(
      async () => (await app.events(`type = 'FunctionRemoved'`, [])).some((e) => e.data.reason === 'preview-expired'),
      60_000,
      'the preview to expire',
    );
    await eventually(async () => (await app.invoke('alexellis-fn1-fix-login')).status === 404, 30_000, 'the gateway to drop it');
    await eventually(async () => (await app.readModel('alexellis-fn1-fix-login'))?.status === 'removed', 30_000, 'the read model');
  });
});

describe('without PREVIEW_BRANCHES', () => {
  let app: Awaited<ReturnType<typeof startApp>>;

  beforeAll(async () => {
    app = await startApp({});
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  it('a push to another branch stays ignored, as before previews', async () => {
    const pushed = await app.push('feature/x', repo('branch code'));
    expect((await pushed.events()).map((e) => [e.type, e.data.reason])).toEqual([
      ['PushIgnored', 'skipping build for: feature/x branch, the build branch is: master'],
    ]);
  });
});

describe('branch previews through the pipeline world, on the Kafka log (GitHub and OpenFaaS as strict fakes)', () => {
  let world: PipelineWorld;

  beforeAll(async () => {
    world = await startPipelineWorld(secret, logModes[1]!.kafka(), { PREVIEW_BRANCHES: 'feature/*' });
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  const push = async (branch: string, sha: string) => {
    const { status } = await deliverPush(world.api.url, secret, {
      owner: 'alexellis',
      repo: 'fns',
      sha,
      ref: `refs/heads/${branch}`,
      cloneUrl: world.git.cloneUrl('alexellis', 'fns'),
      installationId: INSTALLATION,
    });
    expect(status).toBe(202);
  };
  const stackStatus = (sha: string) => world.github.statuses.filter((s) => s.sha === sha && s.context === 'stack-deploy').at(-1);

  it('deploys the preview beside production, reports its URL on GitHub, and removes only it when the branch is deleted', async () => {
    const main = world.git.commit('alexellis', 'fns', repo('main code'));
    await push('master', main);
    await eventually(async () => stackStatus(main)?.state === 'success', 60_000, 'production');
    const branch = world.git.commit('alexellis', 'fns', repo('branch code'));
    await push('feature/x', branch);
    await eventually(async () => stackStatus(branch)?.state === 'success', 60_000, 'the preview');

    expect(stackStatus(branch)!.description).toBe('preview of feature/x is successfully deployed');
    const fnStatus = world.github.statuses.filter((s) => s.sha === branch && s.context === 'alexellis-fn1-feature-x').at(-1);
    expect(fnStatus).toMatchObject({ state: 'success', targetUrl: 'http://gateway.example/function/alexellis-fn1-feature-x' });
    expect(world.gateway.functions.get('alexellis-fn1-feature-x')!.labels).toMatchObject({
      'com.openfaas.cloud.git-sha': branch,
      'com.openfaas.cloud.git-branch': 'feature-x',
      'com.openfaas.cloud.git-preview': 'feature-x',
    });
    expect(world.gateway.functions.get('alexellis-fn1')!.labels).toMatchObject({ 'com.openfaas.cloud.git-sha': main });

    await push('feature/x', ZERO_SHA);
    await eventually(async () => !world.gateway.functions.has('alexellis-fn1-feature-x'), 60_000, 'the preview to go');
    expect(world.gateway.functions.get('alexellis-fn1')!.labels).toMatchObject({ 'com.openfaas.cloud.git-sha': main });
  });
});
