import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { eventually, logModes } from '../../../libs/infra/test/support/backbones.js';
import type { FakeGitHub } from '../../../test/support/fake-github.js';
import type { FakeGateway } from '../../../test/support/fake-openfaas.js';
import type { GitFixtures, RepoFiles } from '../../../test/support/git-repos.js';
import { signPayload } from '../../../test/support/github-payloads.js';
import { INSTALLATION, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';
import { deliverCommit } from './support/spawn-api.js';

const secret = 'pipeline-webhook-secret';

const stack = (functions: string[], lang = 'node20') =>
  `provider:\n  name: openfaas\nfunctions:\n${functions.map((fn) => `  ${fn}:\n    lang: ${lang}\n    handler: ./${fn}\n    image: alexellis2/${fn}:0.1\n    labels:\n      com.openfaas.scale.min: 1\n`).join('')}`;
const handler = (fn: string, text: string) => ({ [`${fn}/handler.js`]: `module.exports = async () => ${JSON.stringify(text)};\n` });

type StoredEvent = { type: string; data: Record<string, unknown>; stream_id: string };

describe.each(logModes)('the pipeline, end to end through the webhook ($name)', (mode) => {
  let world: PipelineWorld;
  let db: DataSource;
  let git: GitFixtures;
  let github: FakeGitHub;
  let gateway: FakeGateway;
  let api: PipelineWorld['api'];
  const kafka = mode.kafka();

  beforeAll(async () => {
    world = await startPipelineWorld(secret, kafka, { ENABLE_DOCKERFILE_LANG: 'true' });
    ({ git, github, gateway, api } = world);
    db = await openDataSource(world.database.url);
  });

  afterAll(async () => {
    await db?.destroy();
    await world?.close();
  });

  const push = async (files: RepoFiles) => {
    const sha = git.commit('alexellis', 'fns', files);
    const deliveryId = await deliverCommit(api.url, secret, git, { owner: 'alexellis', repo: 'fns', sha, installationId: INSTALLATION });
    return { sha, deliveryId };
  };
  const stackStatus = (sha: string) => github.statuses.filter((s) => s.sha === sha && s.context === 'stack-deploy').at(-1);
  const settled = (sha: string) =>
    eventually(
      async () => ['success', 'failure'].includes(stackStatus(sha)?.state ?? ''),
      60_000,
      `stack-deploy status for ${sha.slice(0, 7)}`,
    );
  const events = (deliveryId: string): Promise<StoredEvent[]> =>
    db.query(`SELECT type, data, stream_id FROM events WHERE correlation_id = $1 ORDER BY global_position`, [deliveryId]);
  const count = (list: StoredEvent[], type: string) => list.filter((e) => e.type === type).length;

  let first: { sha: string; deliveryId: string };

  it('builds and deploys both functions with OpenFaaS Cloud labels and reports every status in order', async () => {
    first = await push({ 'stack.yml': stack(['fn1', 'fn2']), ...handler('fn1', 'one'), ...handler('fn2', 'two') });
    await settled(first.sha);
    expect(stackStatus(first.sha)).toMatchObject({ state: 'success', description: 'stack is successfully deployed' });
    const recorded = await events(first.deliveryId);
    expect([count(recorded, 'BuildStarted'), count(recorded, 'BuildSucceeded'), count(recorded, 'FunctionDeployed')]).toEqual([2, 2, 2]);

    const fn1 = gateway.functions.get('alexellis-fn1')!;
    expect(fn1).toMatchObject({
      image: `registry:5000/alexellis/fns-fn1:0.1-master-${first.sha.slice(0, 7)}`,
      readOnlyRootFilesystem: true,
      labels: expect.objectContaining({
        'com.openfaas.cloud.git-cloud': '1',
        'com.openfaas.cloud.git-owner': 'alexellis',
        'com.openfaas.cloud.git-repo': 'fns',
        'com.openfaas.cloud.git-sha': first.sha,
        'com.openfaas.cloud.git-branch': 'master',
        'com.openfaas.cloud.git-private': '0',
        'com.openfaas.cloud.git-scm': 'github',
        'com.openfaas.scale.min': '1',
      }),
      annotations: { 'com.openfaas.cloud.git-repo-url': git.cloneUrl('alexellis', 'fns').replace(/\.git$/, '') },
    });
    expect(gateway.calls.filter((c) => c.method === 'POST' && c.path === '/system/functions')).toHaveLength(2);

    const mine = github.statuses.filter((s) => s.sha === first.sha);
    expect(mine[0]).toMatchObject({ context: 'stack-deploy', state: 'pending' });
    expect(mine.at(-1)).toMatchObject({ context: 'stack-deploy', state: 'success' });
    for (const name of ['alexellis-fn1', 'alexellis-fn2']) {
      const states = mine.filter((s) => s.context === name).map((s) => s.state);
      expect(states).toEqual(['pending', 'success']);
      expect(mine.find((s) => s.context === name && s.state === 'success')!.targetUrl).toBe(`http://gateway.example/function/${name}`);
    }
    expect(github.issued.get(INSTALLATION)).toHaveLength(1);
  });

  it('rebuilds only the function that changed and reuses the other’s image', async () => {
    const second = await push({ 'stack.yml': stack(['fn1', 'fn2']), ...handler('fn1', 'one'), ...handler('fn2', 'TWO') });
    await settled(second.sha);
    const recorded = await events(second.deliveryId);
    expect(recorded.filter((e) => e.type === 'BuildReused').map((e) => e.data.name)).toEqual(['alexellis-fn1']);
    expect(recorded.filter((e) => e.type === 'BuildStarted').map((e) => e.data.name)).toEqual(['alexellis-fn2']);
    expect(count(recorded, 'FunctionDeployed')).toBe(2);
    expect(gateway.functions.get('alexellis-fn1')!.image).toBe(`registry:5000/alexellis/fns-fn1:0.1-master-${first.sha.slice(0, 7)}`);
    expect(gateway.functions.get('alexellis-fn2')!.image).toBe(`registry:5000/alexellis/fns-fn2:0.1-master-${second.sha.slice(0, 7)}`);
    // Unchanged means untouched: fn1 is recorded at the new commit, and the gateway is not asked to deploy it again.
    const deployed = recorded.filter((e) => e.type === 'FunctionDeployed');
    expect(deployed.map((e) => [e.data.name, e.data.sha, e.data.alreadyRunning ?? false]).sort()).toEqual([
      ['alexellis-fn1', second.sha, true],
      ['alexellis-fn2', second.sha, false],
    ]);
    expect((gateway.functions.get('alexellis-fn1')!.labels as Record<string, string>)['com.openfaas.cloud.git-sha']).toBe(first.sha);
    expect(gateway.deploys.filter((d) => d.service === 'alexellis-fn1').map((d) => d.labels['com.openfaas.cloud.git-sha'])).toEqual([
      first.sha,
    ]);
  });

  it('removes a function that left the stack file, and only that one', async () => {
    const third = await push({ 'stack.yml': stack(['fn1']), ...handler('fn1', 'one') });
    await settled(third.sha);
    await eventually(async () => !gateway.functions.has('alexellis-fn2'), 30_000, 'fn2 removed');
    expect(gateway.functions.has('alexellis-fn1')).toBe(true);
    const removed = await events(third.deliveryId);
    expect(removed.filter((e) => e.type === 'FunctionRemoved').map((e) => [e.data.name, e.data.reason])).toEqual([
      ['alexellis-fn2', 'not-in-stack'],
    ]);
  });

  it('reports a failed build with a link that returns its log, and keeps the other functions', async () => {
    const failing = await push({
      'stack.yml': `${stack(['fn1'])}  web:\n    lang: dockerfile\n    handler: ./web\n    image: web\n`,
      ...handler('fn1', 'one'),
      'web/Dockerfile': 'FROM scratch\n',
    });
    await settled(failing.sha);
    expect(stackStatus(failing.sha)).toMatchObject({
      state: 'failure',
      description: expect.stringMatching(/^1 of 2 function\(s\) failed: \S+: build failed: /),
    });
    // On Kafka the process manager may see fn1's deploy (which settles the push) before web's failure: the
    // function's own status can follow the stack's.
    const webFailure = () => github.statuses.find((s) => s.sha === failing.sha && s.context === 'alexellis-web' && s.state === 'failure');
    await eventually(async () => webFailure() !== undefined, 30_000, 'the failure status of alexellis-web');
    const failure = webFailure()!;
    expect(failure.description).toMatch(/^build failed: lang dockerfile needs BuildKit/);
    // The app listens on a free port; the link keeps its configured PUBLIC_URL origin, so swap the origin only.
    const link = new URL(failure.targetUrl!);
    const local = `${api.url}${link.pathname}${link.search}`;
    const log = await fetch(local);
    expect(log.status).toBe(200);
    expect(await log.text()).toMatch(/needs BuildKit/);
    expect((await fetch(local.replace(/token=[^&]+/, 'token=forged'))).status).toBe(403);
    expect((await fetch(local.replace(/\?.*$/, ''))).status).toBe(401);
    expect(gateway.functions.has('alexellis-fn1')).toBe(true);
  });

  it('fails a function whose secret is missing with a message naming it', async () => {
    const files = {
      'stack.yml': stack(['fn1']).replace('    labels:', '    secrets:\n      - api-key\n    labels:'),
      ...handler('fn1', 'secret'),
    };
    const withSecret = await push(files);
    await settled(withSecret.sha);
    const status = github.statuses.find((s) => s.sha === withSecret.sha && s.context === 'alexellis-fn1' && s.state === 'failure')!;
    expect(status.description).toBe(
      'deploy failed: secret alexellis-api-key is missing: seal it into secrets.yml (faasline seal api-key) or faasline secret set api-key',
    );
  });

  it('removes the owner’s functions of a repository removed from the App, and nothing else', async () => {
    const auth = {
      authorization: `Basic ${Buffer.from(`${gateway.user}:${gateway.password}`).toString('base64')}`,
      'content-type': 'application/json',
    };
    const foreign = [
      {
        service: 'someone-fn1',
        image: 'x',
        labels: { 'com.openfaas.cloud.git-cloud': '1', 'com.openfaas.cloud.git-owner': 'someone', 'com.openfaas.cloud.git-repo': 'fns' },
      },
      {
        service: 'alexellis-manual',
        image: 'x',
        labels: { 'com.openfaas.cloud.git-owner': 'alexellis', 'com.openfaas.cloud.git-repo': 'fns' },
      },
    ];
    for (const body of foreign)
      expect((await fetch(`${gateway.url}/system/functions`, { method: 'POST', headers: auth, body: JSON.stringify(body) })).status).toBe(
        202,
      );
    expect(gateway.functions.has('alexellis-fn1')).toBe(true);
    const deliveryId = randomUUID();
    const body = JSON.stringify({
      action: 'removed',
      installation: { id: INSTALLATION, account: { login: 'alexellis', id: 1 } },
      repository_selection: 'selected',
      repositories_added: [],
      repositories_removed: [{ id: 2, name: 'fns', full_name: 'alexellis/fns', private: false }],
      sender: { login: 'alexellis' },
    });
    const response = await fetch(`${api.url}/webhooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'installation_repositories',
        'x-github-delivery': deliveryId,
        'x-hub-signature-256': signPayload(body, secret),
      },
      body,
    });
    expect(response.status).toBe(202);
    await eventually(async () => !gateway.functions.has('alexellis-fn1'), 30_000, 'alexellis-fn1 removed');
    const recorded = await events(deliveryId);
    expect(recorded.filter((e) => e.type === 'FunctionRemoved').map((e) => [e.data.name, e.data.reason])).toEqual([
      ['alexellis-fn1', 'repository-removed'],
    ]);
    expect([...gateway.functions.keys()].sort()).toEqual(['alexellis-manual', 'someone-fn1']);
  });
});
