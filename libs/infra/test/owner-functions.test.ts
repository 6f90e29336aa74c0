import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { streamIds, type FunctionEvent } from '#domain';
import { postgresOwnerFunctions, type OwnerFunctions } from '#infra';
import { eventually, logModes, openTestBackbone, systemMetadata, type TestBackbone } from './support/backbones.js';

const deployed = (name: string, owner: string): FunctionEvent => ({
  type: 'FunctionDeployed',
  data: {
    name,
    owner,
    repo: 'fns',
    function: name,
    branch: 'main',
    sha: 'a'.repeat(40),
    image: `img/${name}`,
    endpoint: `http://gw/function/${name}`,
    deliveryId: 'd',
    buildId: 'b',
    pushSequence: 1,
    ownerId: null,
    repositoryId: null,
  },
});
const removed = (name: string, owner: string): FunctionEvent => ({
  type: 'FunctionRemoved',
  data: { name, owner, repo: 'fns', reason: 'not-in-stack' },
});

describe('owner functions, read from the event store', () => {
  let backbone: TestBackbone;
  let owners: OwnerFunctions;
  beforeAll(async () => {
    backbone = await openTestBackbone(logModes[0]!);
    owners = postgresOwnerFunctions(backbone.db);
  });
  afterAll(() => backbone.close());
  const record = (event: FunctionEvent) =>
    backbone.store.append(streamIds.function((event.data as { name: string }).name), 'any', [event], systemMetadata);

  it("counts the functions an owner runs now, whatever the login's case, leaving out removed ones and the one being deployed", async () => {
    await record(deployed('alice-a', 'alice'));
    await record(deployed('alice-b', 'Alice'));
    await record(deployed('alice-c', 'alice'));
    await record(removed('alice-c', 'alice'));
    await record(deployed('alice-d', 'alice'));
    await record(removed('alice-d', 'alice'));
    await record(deployed('alice-d', 'alice'));
    await record(deployed('bob-a', 'bob'));
    expect(await owners.deployedCount('ALICE', streamIds.function('nothing'))).toBe(3);
    expect(await owners.deployedCount('alice', streamIds.function('alice-a'))).toBe(2);
    expect(await owners.deployedCount('bob', streamIds.function('nothing'))).toBe(1);
    expect(await owners.deployedCount('carol', streamIds.function('nothing'))).toBe(0);
  });

  it("makes an owner's new-function deploys take turns, and leaves other owners alone", async () => {
    const release = await owners.lock('Dana');
    let secondHeld = false;
    const second = owners.lock('dana').then((releaseSecond) => {
      secondHeld = true;
      return releaseSecond;
    });
    const other = await owners.lock('erin');
    // The second request is queued on Dana's lock in Postgres (not merely slow): Erin's was granted meanwhile.
    const waiting = async () =>
      (
        await backbone.db.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        )
      )[0].n;
    await eventually(async () => (await waiting()) === 1, 10_000, 'the second lock of Dana to wait');
    expect(secondHeld).toBe(false);
    await release();
    await (
      await second
    )();
    expect(secondHeld).toBe(true);
    await other();
  });
});
