import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { eventually, logModes } from '../../../libs/infra/test/support/backbones.js';
import type { FakeGateway } from '../../../test/support/fake-openfaas.js';
import type { GitFixtures } from '../../../test/support/git-repos.js';
import { deliverPushBody, pushPayload } from '../../../test/support/github-payloads.js';
import { INSTALLATION, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';

const secret = 'push-replay-webhook-secret';
const files = (text: string) => ({
  'stack.yml': 'provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: node20\n    handler: ./fn1\n    image: alexellis2/fn1:0.1\n',
  'fn1/handler.js': `module.exports = async () => ${JSON.stringify(text)};\n`,
});

describe.each(logModes)('a signed push body sent again, end to end (spawned api, $name)', (mode) => {
  let world: PipelineWorld;
  let db: DataSource;
  let git: GitFixtures;
  let gateway: FakeGateway;

  beforeAll(async () => {
    world = await startPipelineWorld(secret, mode.kafka());
    ({ git, gateway } = world);
    db = await openDataSource(world.database.url);
  });

  afterAll(async () => {
    await db?.destroy();
    await world?.close();
  });

  const send = (body: string, deliveryId = randomUUID()) => deliverPushBody(world.api.url, secret, body, deliveryId);
  const body = (sha: string, before?: string) =>
    pushPayload({
      owner: 'alexellis',
      repo: 'replayed',
      sha,
      cloneUrl: git.cloneUrl('alexellis', 'replayed'),
      installationId: INSTALLATION,
      ...(before ? { before } : {}),
    });
  const running = (): string => String(gateway.functions.get('alexellis-fn1')?.image ?? '');
  const runs = (sha: string) =>
    eventually(async () => running().endsWith(`-${sha.slice(0, 7)}`), 60_000, `alexellis-fn1 at ${sha.slice(0, 7)}`);
  const pushesOf = async (sha: string): Promise<number> =>
    (await db.query(`SELECT count(*)::int AS n FROM events WHERE type = 'PushReceived' AND data->>'sha' = $1`, [sha]))[0].n;

  it('deploys a push once, ignores its body replayed after a later push, and deploys a force-push back to it', async () => {
    const first = git.commit('alexellis', 'replayed', files('one'));
    const firstBody = body(first);
    expect((await send(firstBody)).status).toBe(202);
    await runs(first);

    const second = git.commit('alexellis', 'replayed', files('two'));
    expect((await send(body(second, first))).status).toBe(202);
    await runs(second);

    // The first push's signed bytes, captured and sent again under a new delivery id: nothing is recorded, and
    // the function is not rolled back.
    const replay = await send(firstBody);
    expect(replay.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await db.query(`SELECT type FROM events WHERE correlation_id = $1`, [replay.deliveryId])).toEqual([]);
    expect(await pushesOf(first)).toBe(1);
    expect(running().endsWith(`-${second.slice(0, 7)}`)).toBe(true);

    // The owner force-pushes the branch back to the first commit: a new push of that SHA, which deploys it again.
    const revert = await send(body(first, second));
    expect(revert.status).toBe(202);
    await runs(first);
    expect(await pushesOf(first)).toBe(2);
    const decided = await db.query(`SELECT type FROM events WHERE correlation_id = $1 AND type LIKE 'Build%'`, [revert.deliveryId]);
    expect(decided.map((e: { type: string }) => e.type)).toEqual(['BuildReused']);
  });
});
