import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import type { DataSource } from 'typeorm';
import { eventually, logModes } from '../../../libs/infra/test/support/backbones.js';
import type { FakeBuildKit } from '../../../test/support/fake-buildkit.js';
import type { FakeGateway } from '../../../test/support/fake-openfaas.js';
import type { GitFixtures, RepoFiles } from '../../../test/support/git-repos.js';
import {
  startBuildKitWorld,
  testRegistry as registry,
  testRegistryUrl as registryUrl,
  type BuildKitWorld,
} from './support/buildkit-world.js';
import { deliverCommit, start } from './support/spawn-api.js';

const secret = 'buildkit-webhook-secret';

const stack = (extra = '') =>
  `provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: node20\n    handler: ./fn1\n    image: fn1:0.1\n${extra}`;
const files = (text: string, extra: RepoFiles = {}): RepoFiles => ({
  'stack.yml': stack(),
  'fn1/handler.js': `module.exports = async () => ${JSON.stringify(text)};\n`,
  ...extra,
});

type StoredEvent = { type: string; data: Record<string, unknown> };

describe.each(logModes)('the pipeline with BuildKit (fake daemon, real registry when installed) ($name)', (mode) => {
  const kafka = mode.kafka();
  let world: BuildKitWorld;
  let db: DataSource;
  let git: GitFixtures;
  let buildkit: FakeBuildKit;
  let gateway: FakeGateway;
  let env: NodeJS.ProcessEnv;
  let api: { child: ChildProcess; url: string; output: () => string };
  let earlierOutput = '';

  beforeAll(async () => {
    world = await startBuildKitWorld(secret, 'faasline-buildkit-');
    ({ db, git, buildkit, gateway } = world);
    env = {
      ...world.env,
      // The context over HTTP, the option kept for daemons that reach the api (the session path has its own file).
      BUILDKIT_CONTEXT: 'http',
      ENABLE_DOCKERFILE_LANG: 'true',
      BUILD_CONCURRENCY: '2',
      // One owner's two pushes build side by side here (the newer finishes first), past the fair-share default.
      MAX_BUILDS_PER_OWNER: '2',
      ...(kafka ? { KAFKA_BROKERS: kafka.brokers.join(','), KAFKA_TOPIC: kafka.topic } : {}),
    };
    api = await start(env, { keepPort: true });
  });

  afterAll(async () => {
    api?.child.kill('SIGKILL');
    await world.close();
  });

  const push = async (repoFiles: RepoFiles) => deliver(git.commit('alexellis', 'bk', repoFiles));
  const deliver = async (sha: string) => ({
    sha,
    deliveryId: await deliverCommit(api.url, secret, git, { owner: 'alexellis', repo: 'bk', sha }),
  });
  const events = (deliveryId: string): Promise<StoredEvent[]> =>
    db.query(`SELECT type, data FROM events WHERE correlation_id = $1 ORDER BY global_position`, [deliveryId]);
  const typesOf = async (deliveryId: string) => (await events(deliveryId)).map((e) => e.type);
  const settled = (deliveryId: string) =>
    eventually(
      async () =>
        (await events(deliveryId)).some(
          (e) => e.type === 'CommitStatusReported' && e.data.context === 'stack-deploy' && e.data.state !== 'pending',
        ),
      60_000,
      'the push to settle',
    );
  const restart = async () => {
    api.child.kill('SIGKILL');
    await new Promise((resolve) => api.child.once('exit', resolve));
    earlierOutput += `--- killed api ---\n${api.output()}`;
    api = await start(env, { keepPort: true });
  };
  // A step that never comes fails by its name, with what the api processes printed and the jobs they left.
  const within = async <T>(promise: Promise<T>, what: string, ms = 50_000): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(async () => {
        const jobs = await db.query(`SELECT step, attempts, not_before, done_at, last_error FROM pipeline_jobs ORDER BY seq`);
        const recorded = await db.query(`SELECT type, data->>'reason' AS reason FROM events ORDER BY global_position`);
        const printed = `${earlierOutput}--- running api ---\n${api.output()}`.split('\n').slice(-80).join('\n');
        reject(
          new Error(
            `${what} did not happen within ${ms} ms\njobs: ${JSON.stringify(jobs)}\nevents: ${JSON.stringify(recorded)}\n${printed}`,
          ),
        );
      }, ms);
    });
    try {
      return await Promise.race([promise, late]);
    } finally {
      clearTimeout(timer);
    }
  };

  it('solves with the dockerfile frontend and an HTTP context, pushes the image and streams the log', async () => {
    const { sha, deliveryId } = await push(files('one'));
    await settled(deliveryId);
    expect(await typesOf(deliveryId)).toEqual(expect.arrayContaining(['BuildStarted', 'BuildSucceeded', 'FunctionDeployed']));
    const image = `${registry}/alexellis/bk-fn1:0.1-master-${sha.slice(0, 7)}`;
    const solve = buildkit.solves.find((s) => s.image === image)!;
    expect(solve.attrs).toMatchObject({ name: image, push: 'true' });
    expect(solve.legacy).toBe(false);
    expect(solve.frontendAttrs.context).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:\\d+/internal/build-contexts/sha256:[0-9a-f]{64}\\.tar\\.gz\\?expires=\\d+&token=`),
    );
    expect((await fetch(solve.frontendAttrs.context!.replace(/token=[^&]+/, 'token=x'))).status).toBe(403);
    expect(gateway.functions.get('alexellis-fn1')!.image).toBe(image);
    const built = (await events(deliveryId)).find((e) => e.type === 'BuildSucceeded')!;
    expect(built.data.logTail).toMatch(/#1 \[internal\] load remote build context/);
    if (registryUrl) {
      const manifest = await fetch(`${registryUrl}/v2/alexellis/bk-fn1/manifests/0.1-master-${sha.slice(0, 7)}`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      });
      expect(manifest.status).toBe(200);
    }
  });

  it('deploys the newest push when an older push’s build finishes last; the older one is superseded', async () => {
    const shaA = git.commit('alexellis', 'bk', files('A'));
    const held = buildkit.hold((image) => image.endsWith(shaA.slice(0, 7)));
    const pushA = await deliver(shaA);
    await held.reached;
    const pushB = await push(files('B'));
    await settled(pushB.deliveryId);
    held.release();
    await settled(pushA.deliveryId);
    expect(await typesOf(pushA.deliveryId)).toContain('BuildSuperseded');
    expect(await typesOf(pushA.deliveryId)).not.toContain('FunctionDeployed');
    expect(gateway.functions.get('alexellis-fn1')!.image).toMatch(new RegExp(`${pushB.sha.slice(0, 7)}$`));
    // The older commit's statuses say why it is not running, naming the commit that is.
    const reported = async (context: string) =>
      (await events(pushA.deliveryId)).filter((e) => e.type === 'CommitStatusReported' && e.data.context === context).at(-1)?.data;
    expect(await reported('alexellis-fn1')).toMatchObject({
      sha: shaA,
      state: 'failure',
      description: `not deployed: superseded by ${pushB.sha.slice(0, 7)}`,
    });
    expect(await reported('stack-deploy')).toMatchObject({
      sha: shaA,
      state: 'failure',
      description: 'not deployed: a newer push superseded this one',
    });
  });

  // Two restarts: on Kafka each waits for the broker to drop the killed consumers before the new ones take over.
  it('finishes with one deploy per function after a SIGKILL during the build and another during the deploy', async () => {
    const sha = git.commit('alexellis', 'bk', files('crash'));
    const held = buildkit.hold((image) => image.endsWith(sha.slice(0, 7)));
    const during = { ...(await deliver(sha)), held };
    await within(held.reached, 'the build reaching BuildKit');
    const deployHeld = gateway.holdNextDeploy();
    await within(restart(), 'the first restart'); // killed mid-build
    during.held.release();
    await within(deployHeld.reached, 'the deploy after the restart reaching the gateway');
    await within(restart(), 'the second restart'); // killed mid-deploy
    deployHeld.release();
    await within(settled(during.deliveryId), 'the push settling after the second restart', 70_000);
    const recorded = await typesOf(during.deliveryId);
    expect(recorded.filter((type) => type === 'FunctionDeployed')).toHaveLength(1);
    expect(recorded.filter((type) => type === 'PushReceived')).toHaveLength(1);
    expect(gateway.functions.get('alexellis-fn1')!.image).toMatch(new RegExp(`${during.sha.slice(0, 7)}$`));
  }, 300_000);

  it('records a failing Dockerfile build with its log', async () => {
    const { deliveryId } = await push({
      'stack.yml': `provider:\n  name: openfaas\nfunctions:\n  web:\n    lang: dockerfile\n    handler: ./web\n    image: web\n`,
      'web/Dockerfile': 'FROM alpine\nRUN echo "compiling web" && echo "exit status 1: web.c: no main" >&2 && exit 1\n',
    });
    await settled(deliveryId);
    const failed = (await events(deliveryId)).find((e) => e.type === 'BuildFailed')!;
    expect(failed.data.reason).toMatch(/did not complete successfully: exit code: 1/);
    // What the failing RUN printed, on both streams, then the daemon's verdict on that step.
    expect(failed.data.logTail).toMatch(
      /^\S+ #3 compiling web\n\S+ #3 exit status 1: web\.c: no main\n\S+ #3 ERROR: process "\/bin\/sh -c [^\n]*" did not complete successfully: exit code: 1$/m,
    );
  });
});
