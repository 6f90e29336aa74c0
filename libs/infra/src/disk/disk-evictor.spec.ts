import { describe, expect, it } from '@jest/globals';
import { chooseEvictions, type CachedFolder } from './disk-evictor.js';

const MINUTE = 60_000;
const NOW = 1_000 * MINUTE;
const folder = (path: string, bytes: number, minutesAgo: number, pinned = false): CachedFolder => ({
  path,
  bytes,
  lastUsedMs: NOW - minutesAgo * MINUTE,
  pinned,
});
const paths = (folders: CachedFolder[]) => folders.map((f) => f.path);

describe('choosing what to evict', () => {
  it('evicts nothing while everything fits', () =>
    expect(chooseEvictions([folder('a', 40, 90), folder('b', 60, 80)], 100, NOW, 15 * MINUTE)).toEqual([]));

  it('evicts the least recently used first, only until the rest fits', () =>
    expect(
      paths(chooseEvictions([folder('new', 50, 20), folder('oldest', 50, 300), folder('old', 50, 100)], 100, NOW, 15 * MINUTE)),
    ).toEqual(['oldest']));

  it('never evicts a pinned folder (a deployed image), however old', () =>
    expect(
      paths(chooseEvictions([folder('running', 60, 900, true), folder('a', 30, 60), folder('b', 30, 30)], 100, NOW, 15 * MINUTE)),
    ).toEqual(['a']));

  it('never evicts a folder used within the grace period (a build or deploy in progress), even over budget', () =>
    expect(paths(chooseEvictions([folder('just-built', 200, 1), folder('old', 50, 60)], 100, NOW, 15 * MINUTE))).toEqual(['old']));

  it('keeps what cannot be evicted when it alone exceeds the budget', () =>
    expect(chooseEvictions([folder('running', 500, 900, true)], 100, NOW, 15 * MINUTE)).toEqual([]));
});
