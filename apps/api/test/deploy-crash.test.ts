import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { startFakeGateway, type FakeGateway } from '../../../test/support/fake-openfaas.js';
import { gitFixtures, writeTemplates, type GitFixtures } from '../../../test/support/git-repos.js';
import { start, pushEnv, gatewayEnv, deliverCommit } from './support/spawn-api.js';

const secret = 'deploy-crash-webhook-secret';
const FN = 'alexellis-fn1';

/** Found by the chaos run's rule (no deploy of the same image of the same commit twice): a crash inside the deploy step. */
describe('an api killed after the gateway took a deploy and before FunctionDeployed was recorded', () => {
  let database: TestDatabase;
  let db: DataSource;
  let git: GitFixtures;
  let gateway: FakeGateway;
  let dataDir: string;
  let templatesDir: string;
  let env: NodeJS.ProcessEnv;
  let api: { child: ChildProcess; url: string };

  beforeAll(async () => {
    database = await provisionTestDatabase();
    db = await openDataSource(database.url);
    git = await gitFixtures();
    gateway = await startFakeGateway();
    dataDir = mkdtempSync(join(tmpdir(), 'faasline-deploy-crash-'));
    templatesDir = writeTemplates(['node20']);
    env = {
      ...pushEnv(database, dataDir, git, secret),
      TEMPLATES_DIR: templatesDir,
      ...gatewayEnv(gateway),
      SANDBOX: 'off',
      CUSTOMERS: 'alexellis',
    };
    api = await start(env);
  });

  afterAll(async () => {
    api?.child.kill('SIGKILL');
    await db?.destroy();
    await git?.close();
    await gateway?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(templatesDir, { recursive: true, force: true });
  });

  const stack = 'provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: node20\n    handler: ./fn1\n    image: fn1:0.1\n';
  const push = async (text: string) => {
    const sha = git.commit('alexellis', 'fns', { 'stack.yml': stack, 'fn1/handler.js': `module.exports = async () => "${text}";\n` });
    const deliveryId = await deliverCommit(api.url, secret, git, { owner: 'alexellis', repo: 'fns', sha });
    return { sha, deliveryId };
  };
  const deployed = async (deliveryId: string) =>
    (await db.query(`SELECT data FROM events WHERE correlation_id = $1 AND type = 'FunctionDeployed'`, [deliveryId])) as {
      data: { name: string; image: string; sha: string };
    }[];

  it('records the deploy on the re-run without deploying the same image of the same commit again', async () => {
    // A first version, so the next deploy is an update the gateway takes with one PUT.
    const first = await push('one');
    await eventually(async () => (await deployed(first.deliveryId)).length > 0, 60_000, 'the first version to deploy');

    const held = gateway.holdNextDeploy();
    const { sha, deliveryId } = await push('two');
    await held.reached;
    const exited = new Promise((resolve) => api.child.once('exit', resolve));
    api.child.kill('SIGKILL');
    await exited;
    // The gateway finishes the deploy it took; the api that asked is gone before it could record it.
    held.release();
    await eventually(async () => gateway.deploys.length === 2, 10_000, 'the held deploy to land');

    api = await start(env);
    await eventually(async () => (await deployed(deliveryId)).length > 0, 60_000, 'FunctionDeployed after the restart');

    const [{ data }] = await deployed(deliveryId);
    expect(data).toMatchObject({ name: FN, sha });
    expect(gateway.deploys.filter((deploy) => deploy.image === data.image).map((deploy) => deploy.service)).toEqual([FN]);
    expect(gateway.functions.get(FN)).toMatchObject({ image: data.image });
  }, 120_000);

  it('records that deploy even when a newer push arrived before the re-run, then deploys the newer push over it', async () => {
    const held = gateway.holdNextDeploy();
    const taken = await push('four');
    await held.reached;
    // Accepted while the deploy is held: by the re-run the newest push on the branch is this one.
    const newer = await push('five');
    const exited = new Promise((resolve) => api.child.once('exit', resolve));
    api.child.kill('SIGKILL');
    await exited;
    const before = gateway.deploys.length;
    held.release();
    await eventually(async () => gateway.deploys.length === before + 1, 10_000, 'the held deploy to land');

    api = await start(env);
    await eventually(async () => (await deployed(newer.deliveryId)).length > 0, 60_000, 'the newer push to deploy');

    // The audit trail names every deploy the gateway took, the one nobody recorded before the crash included.
    const [{ data: took }] = await deployed(taken.deliveryId);
    const [{ data: newest }] = await deployed(newer.deliveryId);
    expect([took.sha, newest.sha]).toEqual([taken.sha, newer.sha]);
    expect(gateway.deploys.slice(before).map((deploy) => deploy.image)).toEqual([took.image, newest.image]);
    expect(gateway.functions.get(FN)).toMatchObject({ image: newest.image });
  }, 120_000);
});
