import { describe, expect, it } from '@jest/globals';
import { fold } from '../decider.js';
import type { FunctionEvent } from '../events.js';
import { fn1Deployment, rolledBackData } from '../spec-fixtures.js';
import { functionDecider, functionSnapshots, rollbackTarget, type FunctionCommand, type FunctionState } from './function.decider.js';

const ref = (buildId: string, sha: string, contextDigest: string) => ({
  buildId,
  name: 'alexellis-fn1',
  owner: 'alexellis',
  repo: 'fns',
  sha,
  contextDigest,
});
const ids = { ownerId: 1, repositoryId: 2 };
/** A push that built and deployed `sha` (its own context digest), as the pipeline records it. */
const pushed = (pushSequence: number, sha: string): FunctionEvent[] => [
  { type: 'BuildStarted', data: ref(`b-${pushSequence}`, sha, `sha256:${sha}`) },
  {
    type: 'BuildSucceeded',
    data: {
      ...ref(`b-${pushSequence}`, sha, `sha256:${sha}`),
      image: `img:${sha}`,
      imageDigest: null,
      builder: 'local',
      durationMs: 1,
      logRef: 'l',
      logTail: '',
    },
  },
  { type: 'FunctionDeployed', data: fn1Deployment(pushSequence, sha, `dep-${sha}`) },
];
const history: FunctionEvent[] = [
  ...pushed(1, 'a'.repeat(40)),
  ...pushed(2, 'b'.repeat(40)),
  { type: 'BuildFailed', data: { ...ref('b-3', 'c'.repeat(40), 'sha256:c'), reason: 'x', durationMs: 1, logRef: 'b-3', logTail: '' } },
  { type: 'BuildStarted', data: ref('b-4', 'd'.repeat(40), 'sha256:d') },
  { type: 'FunctionRolledBack', data: rolledBackData('b'.repeat(40), 'a'.repeat(40)) },
];

/** Through the JSON a snapshot is stored as, and back. */
const restored = (state: FunctionState): FunctionState =>
  functionSnapshots.fromJson(JSON.parse(JSON.stringify(functionSnapshots.toJson(state))));

describe('function snapshots', () => {
  const state = fold(functionDecider, history);

  it('restore the state they were taken of', () => {
    expect(restored(state)).toEqual(state);
    expect([...restored(state).builds.keys()]).toEqual(['b-1', 'b-2', 'b-3', 'b-4']);
    expect(restored(fold(functionDecider, []))).toEqual(functionDecider.initialState());
  });

  it('decide as the events they were taken of do', () => {
    const commands: FunctionCommand[] = [
      { type: 'StartBuild', data: { ...ref('b-5', 'a'.repeat(40), `sha256:${'a'.repeat(40)}`), ...ids } },
      { type: 'StartBuild', data: { ...ref('b-6', 'e'.repeat(40), 'sha256:e'), ...ids } },
      {
        type: 'Deploy',
        data: { ...fn1Deployment(3, 'e'.repeat(40)), contextDigest: 'sha256:e', newestPushSequence: 3, newestSha: 'e'.repeat(40) },
      },
      { type: 'DeployRollback', data: fn1Deployment(1, 'a'.repeat(40)) },
      { type: 'Delete', data: { name: 'alexellis-fn1', note: null } },
    ];
    for (const command of commands)
      expect(functionDecider.decide(command, restored(state))).toEqual(functionDecider.decide(command, state));
    // A rollback reads builds by id and by commit: the restored builds answer the same.
    expect(rollbackTarget(restored(state), 'alexellis-fn1', { sha: 'aaaaaaa' })).toEqual(
      rollbackTarget(state, 'alexellis-fn1', { sha: 'aaaaaaa' }),
    );
  });

  it('fold on like the events they were taken of', () => {
    const later = pushed(5, 'f'.repeat(40));
    expect(later.reduce(functionDecider.evolve, restored(state))).toEqual(fold(functionDecider, [...history, ...later]));
  });
});
