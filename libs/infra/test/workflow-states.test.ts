import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Event, RecordedEvent } from '#domain';
import { foldWorkflowStates, type CorrelatedWorkflow } from '#infra';
import { logModes, openTestBackbone, systemMetadata, type TestBackbone } from './support/backbones.js';

type Pushed = RecordedEvent<Event<'PushIgnored', { sha: string }>>;
const pushed = (sha: string): Event => ({
  type: 'PushIgnored',
  data: { deliveryId: sha, owner: 'o', repo: 'r', ref: 'refs/tags/v1', sha, reason: 'tag' },
});

/** A workflow whose state is the commits of its delivery seen so far, in order. */
const seen: CorrelatedWorkflow<Pushed, never, string[]> = {
  name: 'test-seen',
  workflow: { initialState: () => [], evolve: (state, event) => [...state, event.data.sha], decide: () => [] },
  isInput: (event): event is Pushed => event.type === 'PushIgnored',
};

describe('workflow states folded beside a checkpoint', () => {
  let backbone: TestBackbone;
  beforeAll(async () => {
    backbone = await openTestBackbone(logModes[0]!);
  });
  afterAll(() => backbone.close());

  const append = async (stream: string, sha: string, correlationId: string) =>
    (await backbone.store.append(stream, 'any', [pushed(sha)], { ...systemMetadata, correlationId })).events[0]!;
  /** Folds one batch as a subscriber would; answers what each event was decided on. */
  const deliver = async (batch: readonly RecordedEvent<Event>[], ordered: boolean) => {
    const decidedOn: [string, string[]][] = [];
    await backbone.db.transaction((tx) =>
      foldWorkflowStates(tx, seen, batch, (event, state) => decidedOn.push([event.data.sha, state]), { ordered }),
    );
    return decidedOn;
  };
  const stored = async (correlationId: string) =>
    (
      await backbone.db.query(`SELECT state FROM workflow_states WHERE workflow = $1 AND correlation_id = $2`, [seen.name, correlationId])
    )[0]?.state;

  it('decides each event on the events of its delivery before it, one batch after another', async () => {
    const a = await append('s-a', 'a1', 'd-ordered');
    const b = await append('s-b', 'b1', 'd-ordered');
    const other = await append('s-a', 'x1', 'd-other');
    expect(await deliver([a], true)).toEqual([['a1', []]]);
    expect(await deliver([b, other], true)).toEqual([
      ['b1', ['a1']],
      ['x1', []],
    ]);
    expect(await stored('d-ordered')).toEqual(['a1', 'b1']);
  });

  it('folds a delivery whose earlier events came before its row from those events', async () => {
    await append('s-c', 'c1', 'd-upgraded');
    const c2 = await append('s-c', 'c2', 'd-upgraded');
    expect(await deliver([c2], true)).toEqual([['c2', ['c1']]]);
    expect(await stored('d-upgraded')).toEqual(['c1', 'c2']);
  });

  it('decides on the same states when streams arrive out of order (Kafka), and each event once', async () => {
    const first = await append('s-d', 'd1', 'd-unordered');
    const second = await append('s-e', 'e1', 'd-unordered');
    const third = await append('s-d', 'd2', 'd-unordered');
    // The partition of s-e is ahead: its event comes first, then s-d's two.
    expect(await deliver([second], false)).toEqual([['e1', ['d1']]]);
    expect(await deliver([first, third], false)).toEqual([
      ['d1', []],
      ['d2', ['d1', 'e1']],
    ]);
    expect(await stored('d-unordered')).toEqual(['d1', 'e1', 'd2']);
  });
});
