import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import type { DataSource } from 'typeorm';
import { imageRef } from '#domain';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import type { FakeBuildKit } from '../../../test/support/fake-buildkit.js';
import type { FakeGateway } from '../../../test/support/fake-openfaas.js';
import type { GitFixtures, RepoFiles } from '../../../test/support/git-repos.js';
import { startBuildKitWorld, testRegistry as registry, type BuildKitWorld } from './support/buildkit-world.js';
import { deliverCommit, start, stop } from './support/spawn-api.js';

const secret = 'deploy-readiness-webhook-secret';
/** The name the gateway's nodes pull by (REGISTRY_PULL) what BuildKit pushes to REGISTRY. */
const registryPull = 'registry.openfaas.svc:5000';
const PULL_SECRET = 'registry-secret';
const PLATFORMS = 'linux/amd64,linux/arm64';
const READY_TIMEOUT_S = 4;
const FN = 'alexellis-fn1';

const files = (text: string, fn = 'fn1'): RepoFiles => ({
  'stack.yml': `provider:\n  name: openfaas\nfunctions:\n  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: ${fn}:0.1\n`,
  [`${fn}/handler.js`]: `module.exports = async () => ${JSON.stringify(text)};\n`,
});

type StoredEvent = { type: string; data: Record<string, unknown> };

describe('deploys on an external gateway wait for a ready replica (fake BuildKit and gateway)', () => {
  let world: BuildKitWorld;
  let db: DataSource;
  let git: GitFixtures;
  let buildkit: FakeBuildKit;
  let gateway: FakeGateway;
  let api: { child: ChildProcess; url: string; output: () => string };
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    world = await startBuildKitWorld(secret, 'faasline-readiness-');
    ({ db, git, buildkit, gateway } = world);
    gateway.secrets.add(PULL_SECRET);
    env = {
      ...world.env,
      REGISTRY_PULL: registryPull,
      REGISTRY_PULL_SECRET: PULL_SECRET,
      BUILD_PLATFORMS: PLATFORMS,
      DEPLOY_READY_TIMEOUT: String(READY_TIMEOUT_S),
    };
    api = await start(env, { keepPort: true });
  });

  afterAll(async () => {
    api?.child.kill('SIGKILL');
    await world?.close();
  });

  /** Commits, lets `before` prepare the gateway for the commit's image, then delivers the push. */
  const push = async (
    text: string,
    before: (images: { pushed: string; pulled: string }) => void = () => undefined,
    { repo = 'fns', fn = 'fn1' } = {},
  ) => {
    const sha = git.commit('alexellis', repo, files(text, fn));
    const pushed = imageRef({ registry, owner: 'alexellis', repo, image: `${fn}:0.1`, branch: 'master', sha });
    const pulled = pushed.replace(`${registry}/`, `${registryPull}/`);
    before({ pushed, pulled });
    const deliveryId = await deliverCommit(api.url, secret, git, { owner: 'alexellis', repo, sha });
    return { sha, deliveryId, pushed, pulled };
  };
  const events = (deliveryId: string): Promise<StoredEvent[]> =>
    db.query(`SELECT type, data FROM events WHERE correlation_id = $1 ORDER BY global_position`, [deliveryId]);
  const status = async (deliveryId: string, context: string) =>
    (await events(deliveryId)).filter((e) => e.type === 'CommitStatusReported' && e.data.context === context).at(-1)?.data;
  const settled = (deliveryId: string) =>
    eventually(
      async () => ['success', 'failure'].includes(String((await status(deliveryId, 'stack-deploy'))?.state)),
      60_000,
      'the push to settle',
    );
  const invoke = async () => {
    const answer = await fetch(`${gateway.url}/function/${FN}`);
    return `${answer.status} ${await answer.text()}`;
  };
  const statusPolls = () => gateway.calls.filter((call) => call.method === 'GET' && call.path === `/system/function/${FN}`).length;

  let first: Awaited<ReturnType<typeof push>>;

  it('records FunctionDeployed once the image has a ready replica, deployed from REGISTRY_PULL with the pull secret', async () => {
    const pollsBefore = statusPolls();
    first = await push('first', ({ pulled }) => gateway.holdReplicas(pulled, 1500));
    await settled(first.deliveryId);
    const recorded = await events(first.deliveryId);
    expect(recorded.map((e) => e.type)).toContain('FunctionDeployed');
    expect(await status(first.deliveryId, FN)).toMatchObject({ state: 'success' });
    // It asked more than once: the first answers had no available replica.
    expect(statusPolls() - pollsBefore).toBeGreaterThan(1);
    // BuildKit pushed to REGISTRY; the gateway was told REGISTRY_PULL's name for the same image, with the pull secret.
    expect(buildkit.solves.at(-1)!.image).toBe(first.pushed);
    expect(gateway.functions.get(FN)).toMatchObject({ image: first.pulled, secrets: [PULL_SECRET] });
    expect(recorded.find((e) => e.type === 'FunctionDeployed')!.data.image).toBe(first.pushed);
    expect(await invoke()).toBe(`200 served by ${first.pulled}`);
  }, 90_000);

  it('builds for BUILD_PLATFORMS: the solve carries the platform attribute, the build records them and the builds API answers them', async () => {
    expect(buildkit.solves.at(-1)!.frontendAttrs.platform).toBe(PLATFORMS);
    const recorded = await events(first.deliveryId);
    for (const type of ['BuildStarted', 'BuildSucceeded'])
      expect(recorded.find((e) => e.type === type)!.data.platforms).toEqual(PLATFORMS.split(','));
    type Builds = { items: { sha: string; platforms: string[] | null }[] };
    await eventually(
      async () => {
        const answer = (await fetch(`${api.url}/api/v1/functions/${FN}/builds`).then((r) => r.json())) as Builds;
        return answer.items.find((build) => build.sha === first.sha)?.platforms?.join(',') === PLATFORMS;
      },
      10_000,
      'the builds API to answer the platforms',
    );
  });

  it('fails a deploy whose replicas never become available, says why, and deploys the earlier version again', async () => {
    const stuck = await push('stuck', ({ pulled }) => gateway.holdReplicas(pulled));
    await settled(stuck.deliveryId);
    const reason = `not ready after ${READY_TIMEOUT_S}s (0 of 1 replica(s) available); back to ${first.sha.slice(0, 7)}, printing nothing`;
    const recorded = await events(stuck.deliveryId);
    expect(recorded.map((e) => e.type)).not.toContain('BuildFailed');
    expect(recorded.find((e) => e.type === 'DeployFailed')!.data).toMatchObject({
      reason,
      logs: [],
      rolledBackTo: { sha: first.sha, image: first.pushed },
    });
    expect(await status(stuck.deliveryId, FN)).toMatchObject({ state: 'failure', description: `deploy failed: ${reason}` });
    expect(await status(stuck.deliveryId, 'stack-deploy')).toMatchObject({ state: 'failure' });
    // The earlier version is back on the gateway and answers; the push stays failed.
    await eventually(async () => gateway.functions.get(FN)?.image === first.pulled, 20_000, 'the earlier image back on the gateway');
    await eventually(async () => (await invoke()) === `200 served by ${first.pulled}`, 20_000, 'the earlier version to answer');
    expect(gateway.deploys.at(-1)).toMatchObject({ image: first.pulled });
    await eventually(
      async () => ((await fetch(`${api.url}/api/v1/functions/${FN}`).then((r) => r.json())) as { sha?: string }).sha === first.sha,
      20_000,
      'the function to show the earlier version',
    );
    expect(await status(stuck.deliveryId, 'stack-deploy')).toMatchObject({ state: 'failure' });
    const pushes = (await fetch(`${api.url}/api/v1/repos/alexellis/fns/pushes`).then((r) => r.json())) as {
      items: { deliveryId: string; outcome: string; reason: string }[];
    };
    expect(pushes.items.find((p) => p.deliveryId === stuck.deliveryId)).toMatchObject({ outcome: 'failed' });
  }, 90_000);

  it('fails a crash-looping image with the error line of its log and keeps the log lines', async () => {
    const lines = [
      '2026/12/02 06:00:00 Forking - node [index.js]',
      '2026/12/02 06:00:01 stderr: /home/app/function/handler.js:1',
      "2026/12/02 06:00:01 stderr: Error: Cannot find module 'left-pad'",
      '2026/12/02 06:00:01 Wrote 0 Bytes - Duration: 0.000s',
    ];
    const crashing = await push('crashing', ({ pulled }) => gateway.crashLoop(pulled, lines));
    await settled(crashing.deliveryId);
    const failed = (await events(crashing.deliveryId)).find((e) => e.type === 'DeployFailed')!.data;
    expect(failed.reason).toBe(
      `not ready after ${READY_TIMEOUT_S}s (0 of 1 replica(s) available); back to ${first.sha.slice(0, 7)}: Error: Cannot find module 'left-pad'`,
    );
    expect(failed.logs).toEqual(lines.map((line) => line.replace('/home/app/function/', '…/')));
    expect(await status(crashing.deliveryId, FN)).toMatchObject({
      state: 'failure',
      description: expect.stringContaining("Error: Cannot find module 'left-pad'"),
    });
    await eventually(async () => (await invoke()) === `200 served by ${first.pulled}`, 20_000, 'the earlier version to answer');
  }, 90_000);

  /**
   * Pushes an image that never becomes ready, stops the api with `halt` once the gateway took the deploy and starts
   * it again: the re-run finds its deploy on the gateway (its deploy time with it) instead of deploying it again.
   */
  const expectFailsOnceAcrossRestart = async (text: string, halt: (deliveryId: string) => Promise<void>) => {
    const stuck = await push(text, ({ pulled }) => gateway.holdReplicas(pulled));
    await eventually(async () => gateway.deploys.some((d) => d.image === stuck.pulled), 30_000, 'the deploy to reach the gateway');
    await halt(stuck.deliveryId);
    api = await start(env, { keepPort: true });
    await settled(stuck.deliveryId);
    expect(gateway.deploys.filter((d) => d.image === stuck.pulled)).toHaveLength(1);
    const failures = (await events(stuck.deliveryId)).filter((e) => e.type === 'DeployFailed');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.data.reason).toMatch(new RegExp(`^not ready after ${READY_TIMEOUT_S}s .*; back to ${first.sha.slice(0, 7)}`));
    await eventually(async () => (await invoke()) === `200 served by ${first.pulled}`, 20_000, 'the earlier version to answer');
  };

  it('resumes the wait after a restart: the deploy is not sent twice, and fails once', async () => {
    await expectFailsOnceAcrossRestart('restarted', async () => {
      api.child.kill('SIGKILL');
      await new Promise((resolve) => api.child.once('exit', resolve));
    });
  }, 120_000);

  it('stops mid-wait on a shutdown, recording no failure for it; the next start finishes the wait', async () => {
    await expectFailsOnceAcrossRestart('shut down', async (deliveryId) => {
      expect(await stop(api.child)).toBe(0);
      // The aborted wait (and any aborted gateway call) is no verdict on the deploy: the job is left to run again.
      expect((await events(deliveryId)).map((e) => e.type)).not.toContain('DeployFailed');
    });
  }, 120_000);

  it('removes a first deploy that never became ready: nothing ran before it, and it would restart for good', async () => {
    const fresh = await push('fresh', ({ pulled }) => gateway.holdReplicas(pulled), { repo: 'fresh', fn: 'fn9' });
    await settled(fresh.deliveryId);
    const recorded = await events(fresh.deliveryId);
    expect(recorded.map((e) => e.type)).not.toContain('FunctionRolledBack');
    expect(recorded.find((e) => e.type === 'DeployFailed')!.data.reason).toBe(
      `not ready after ${READY_TIMEOUT_S}s (0 of 1 replica(s) available); removed, printing nothing`,
    );
    expect(gateway.deploys.some((d) => d.image === fresh.pulled)).toBe(true);
    expect(gateway.functions.has('alexellis-fn9')).toBe(false);
    expect(await status(fresh.deliveryId, 'alexellis-fn9')).toMatchObject({ state: 'failure' });
  }, 90_000);
});
