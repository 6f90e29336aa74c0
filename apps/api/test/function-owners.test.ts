import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import type { RepoFiles } from '../../../test/support/git-repos.js';
import { installationOf, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';
import { deliverCommit } from './support/spawn-api.js';

const webhookSecret = 'owners-webhook-secret';

/** GitHub ids: `victim` and `victim-x` are two accounts whose logins make the same `victim-x-api`. */
const victim = { owner: 'victim', ownerId: 5101, repo: 'fns', repositoryId: 7101 };
const victimOther = { owner: 'victim', ownerId: 5101, repo: 'other', repositoryId: 7102 };
const attacker = { owner: 'victim-x', ownerId: 5202, repo: 'fns', repositoryId: 7203 };

const stack = (fn: string, secret: string) =>
  `provider:\n  name: openfaas\nfunctions:\n  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: ${fn}:0.1\n    secrets:\n      - ${secret}\n`;
const files = (fn: string, secret: string, text: string): RepoFiles => ({
  'stack.yml': stack(fn, secret),
  [`${fn}/handler.js`]: `module.exports = async () => ${JSON.stringify(text)};\n`,
});

type StoredEvent = { type: string; data: Record<string, unknown> };

describe('function names belong to the GitHub owner and repository that deployed them', () => {
  let world: PipelineWorld;
  let db: DataSource;

  beforeAll(async () => {
    world = await startPipelineWorld(webhookSecret, null);
    db = await openDataSource(world.database.url);
    world.gateway.secrets.add('victim-x-db');
  });

  afterAll(async () => {
    await db?.destroy();
    await world?.close();
  });

  const push = async (from: typeof victim, repoFiles: RepoFiles) => {
    const sha = world.git.commit(from.owner, from.repo, repoFiles);
    const deliveryId = await deliverCommit(world.api.url, webhookSecret, world.git, {
      ...from,
      sha,
      installationId: installationOf(from.owner),
    });
    const stackStatus = () => world.github.statuses.filter((s) => s.sha === sha && s.context === 'stack-deploy').at(-1);
    await eventually(
      async () => ['success', 'failure'].includes(stackStatus()?.state ?? ''),
      60_000,
      `stack-deploy status of ${from.owner}/${from.repo}`,
    );
    const events: StoredEvent[] = await db.query(`SELECT type, data FROM events WHERE correlation_id = $1 ORDER BY global_position`, [
      deliveryId,
    ]);
    return { sha, stack: stackStatus()!, events, statuses: world.github.statuses.filter((s) => s.sha === sha) };
  };
  /** What a push asks the gateway before and for a deploy (the previous push's clean-up may still be listing functions). */
  const deployCalls = (from: number) =>
    world.gateway.calls
      .slice(from)
      .filter((call) => call.path === '/system/secrets' || (['POST', 'PUT'].includes(call.method) && call.path === '/system/functions'));
  const ownerOf = (call: { body: unknown }) =>
    (call.body as { labels?: Record<string, string> } | null)?.labels?.['com.openfaas.cloud.git-owner'];
  const deploysOf = (name: string) =>
    world.gateway.calls.filter(
      (call) =>
        ['POST', 'PUT'].includes(call.method) && call.path === '/system/functions' && (call.body as { service?: string }).service === name,
    );

  let victimImage: string;

  it('deploys victim/fns’s x-api as victim-x-api with its secret', async () => {
    const first = await push(victim, files('x-api', 'x-db', 'victim code'));
    expect(first.stack).toMatchObject({ state: 'success' });
    const deployed = world.gateway.functions.get('victim-x-api')!;
    expect(deployed).toMatchObject({
      secrets: ['victim-x-db'],
      labels: expect.objectContaining({ 'com.openfaas.cloud.git-owner': 'victim', 'com.openfaas.cloud.git-owner-id': '5101' }),
    });
    victimImage = deployed.image as string;
    expect(first.events.find((e) => e.type === 'FunctionDeployed')!.data).toMatchObject({ ownerId: 5101, repositoryId: 7101 });
  });

  it('refuses victim-x’s api (also victim-x-api) before building it, with a status naming the owner that holds it', async () => {
    const callsBefore = world.gateway.calls.length;
    const second = await push(attacker, files('api', 'db', 'attacker code'));
    expect(second.stack).toMatchObject({
      state: 'failure',
      description: expect.stringMatching(/^1 of 1 function\(s\) failed: \S+: deploy failed: /),
    });
    expect(second.statuses.find((s) => s.context === 'victim-x-api' && s.state === 'failure')!.description).toBe(
      'deploy failed: function name victim-x-api belongs to GitHub owner victim: rename the function in stack.yml',
    );
    // Not built, not deployed: the refusal is the only thing recorded for the function.
    expect(second.events.filter((e) => e.data.name === 'victim-x-api').map((e) => e.type)).toEqual(['DeployFailed']);
    // The gateway was never asked anything for this push: not a deploy, not even the secret names.
    expect(deployCalls(callsBefore)).toEqual([]);
    expect(new Set(deploysOf('victim-x-api').map(ownerOf))).toEqual(new Set(['victim']));
    expect(world.gateway.functions.get('victim-x-api')).toMatchObject({
      image: victimImage,
      labels: expect.objectContaining({ 'com.openfaas.cloud.git-owner': 'victim' }),
    });
  });

  it('refuses victim-x a secret named like one victim’s function mounts, whatever the function is called', async () => {
    const callsBefore = world.gateway.calls.length;
    const pushed = await push(attacker, files('reader', 'db', 'attacker reads'));
    expect(pushed.stack).toMatchObject({ state: 'failure' });
    expect(pushed.statuses.find((s) => s.context === 'victim-x-reader' && s.state === 'failure')!.description).toBe(
      'deploy failed: secret victim-x-db is used by GitHub owner victim: rename the secret in stack.yml',
    );
    expect(deployCalls(callsBefore).filter((call) => call.method !== 'GET')).toEqual([]);
    expect(world.gateway.functions.has('victim-x-reader')).toBe(false);
  });

  it('refuses another repository of the same owner declaring the same function, and never calls the gateway for it', async () => {
    const callsBefore = world.gateway.calls.length;
    const third = await push(victimOther, files('x-api', 'x-db', 'other repo code'));
    expect(third.stack).toMatchObject({ state: 'failure' });
    expect(third.statuses.find((s) => s.context === 'victim-x-api' && s.state === 'failure')!.description).toBe(
      'deploy failed: function name victim-x-api is already deployed from victim/fns: rename the function in stack.yml',
    );
    expect(third.events.filter((e) => e.data.name === 'victim-x-api').map((e) => e.type)).toEqual(['DeployFailed']);
    expect(deployCalls(callsBefore)).toEqual([]);
    expect(world.gateway.functions.get('victim-x-api')!.image).toBe(victimImage);
  });

  it('refuses at deploy time too: a build that raced the holder’s first deploy never reaches the gateway', async () => {
    // Both push a brand-new name; victim's deploy is held at the gateway while victim-x's build runs.
    const held = world.gateway.holdNextDeploy();
    const victimPush = push(victim, files('x-web', 'x-db', 'victim web'));
    await held.reached;
    const callsBefore = world.gateway.calls.length;
    const racing = push({ ...attacker }, files('web', 'db', 'attacker web'));
    // victim-x's deploy waits for the name's deploy lock, held by victim's deploy in progress.
    await eventually(
      async () =>
        (
          await db.query(
            `SELECT 1 FROM events WHERE type = 'BuildSucceeded' AND data->>'owner' = 'victim-x' AND data->>'name' = 'victim-x-web'`,
          )
        ).length > 0,
      60_000,
      'victim-x’s build of victim-x-web',
    );
    held.release();
    const [first, second] = await Promise.all([victimPush, racing]);
    expect(first.stack).toMatchObject({ state: 'success' });
    expect(second.stack).toMatchObject({ state: 'failure' });
    expect(second.events.filter((e) => e.data.name === 'victim-x-web').map((e) => e.type)).toEqual([
      'BuildStarted',
      'BuildSucceeded',
      'DeployFailed',
    ]);
    // Once victim's held PUT (a new function: 404) was released, only victim's POST followed; victim-x's refusal
    // did not even list secrets.
    expect(deployCalls(callsBefore).map((call) => `${call.method} ${call.path} ${ownerOf(call)}`)).toEqual([
      'POST /system/functions victim',
    ]);
    expect((world.gateway.functions.get('victim-x-web')!.labels as Record<string, string>)['com.openfaas.cloud.git-owner']).toBe('victim');
  });
});
