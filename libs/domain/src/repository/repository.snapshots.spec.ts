import { describe, expect, it } from '@jest/globals';
import { fold } from '../decider.js';
import type { RepositoryEvent } from '../events.js';
import { pushData } from '../spec-fixtures.js';
import { newestPushOn, repositoryDecider, repositorySnapshots, type RepositoryState } from './repository.decider.js';

const pushed = (sha: string, branch = 'master'): RepositoryEvent => ({
  type: 'PushReceived',
  data: pushData(sha, { branch, ref: `refs/heads/${branch}` }),
});
const restored = (state: RepositoryState): RepositoryState =>
  repositorySnapshots.fromJson(JSON.parse(JSON.stringify(repositorySnapshots.toJson(state))));

describe('repository snapshots', () => {
  const history = [pushed('a'.repeat(40)), pushed('b'.repeat(40), 'preview'), pushed('c'.repeat(40))];
  const state = fold(repositoryDecider, history);

  it('restore the newest push of every branch and the stream version', () => {
    expect(restored(state)).toEqual(state);
    expect(newestPushOn(restored(state), 'master')).toEqual({ sequence: 3, sha: 'c'.repeat(40) });
    expect(restored(fold(repositoryDecider, []))).toEqual(repositoryDecider.initialState());
  });

  it('fold on like the events they were taken of', () => {
    const later = pushed('d'.repeat(40), 'preview');
    expect(repositoryDecider.evolve(restored(state), later)).toEqual(fold(repositoryDecider, [...history, later]));
  });
});
