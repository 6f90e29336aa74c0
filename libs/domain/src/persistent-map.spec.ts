import { describe, expect, it } from '@jest/globals';
import { PersistentMap } from './persistent-map.js';

describe('persistent map', () => {
  it('leaves the map it was set on as it was', () => {
    const empty = PersistentMap.of<string, number>();
    const one = empty.set('a', 1);
    const two = one.set('b', 2);
    const changed = one.set('a', 3);
    expect([...empty]).toEqual([]);
    expect([...one]).toEqual([['a', 1]]);
    expect([...two]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect([...changed]).toEqual([['a', 3]]);
    // Read in another order than set: the map read last still sees its own changes only.
    expect(two.set('c', 4).get('a')).toBe(1);
    expect(one.get('b')).toBeUndefined();
  });

  it('keeps insertion order, a key set again keeping its first place, like Map', () => {
    const map = PersistentMap.of<string, number>([['x', 0]])
      .set('y', 1)
      .set('x', 2)
      .set('z', 3);
    const plain = new Map([['x', 0]]).set('y', 1).set('x', 2).set('z', 3);
    expect([...map.keys()]).toEqual([...plain.keys()]);
    expect([...map.values()]).toEqual([...plain.values()]);
    expect([...map.entries()]).toEqual([...plain.entries()]);
    expect(map.size).toBe(3);
    expect(map.has('y')).toBe(true);
    expect(map.has('w')).toBe(false);
    const seen: [string, number][] = [];
    map.forEach((value, key) => seen.push([key, value]));
    expect(seen).toEqual([...plain]);
  });

  it('finds a key set long before, set again just now, or never set, however many changes lie between', () => {
    let map = PersistentMap.of<number, string>([[-1, 'first']]);
    for (let index = 0; index < 100; index += 1) map = map.set(index, `v${index}`);
    const later = map.set(0, 'again').set(-2, 'new');
    expect([later.get(-1), later.get(0), later.get(50), later.get(-2), later.get(1000)]).toEqual([
      'first',
      'again',
      'v50',
      'new',
      undefined,
    ]);
    expect([later.has(-1), later.has(1000), map.has(-2)]).toEqual([true, false, false]);
    expect(map.get(0)).toBe('v0');
    expect(later.size).toBe(102);
  });

  it('sets in constant time: folding 100,000 keys costs about as much per key as folding 1,000', () => {
    const perKey = (count: number) => {
      const started = performance.now();
      let map = PersistentMap.of<number, number>();
      for (let index = 0; index < count; index += 1) map = map.set(index, index);
      expect(map.get(count - 1)).toBe(count - 1);
      return (performance.now() - started) / count;
    };
    const small = Math.min(...[1, 2, 3].map(() => perKey(1_000)));
    // A copy per change (new Map(old).set) costs 100 times as much per key here: 50,000 entries copied against 500.
    expect(perKey(100_000)).toBeLessThan(small * 20);
  });
});
