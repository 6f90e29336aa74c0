/**
 * An immutable map whose `set` costs O(1): it returns a new map that records the one change on top of this one.
 * Folding a stream with `new Map(old).set(k, v)` copies every entry for every event, so a function with 10,000
 * builds took tens of seconds to fold; here the entries are gathered once, when the map is first read, and kept.
 * Iterates in insertion order, and a key set again keeps its first place, like Map.
 */
/** Changes a lookup walks back through before it gathers every entry instead. */
const RECENT = 32;
const NOT_RECENT = Symbol('not recent');
/** How Map compares keys. */
const sameValueZero = (a: unknown, b: unknown) => a === b || (a !== a && b !== b);

export class PersistentMap<K, V> implements ReadonlyMap<K, V> {
  // Private by the language, not only the type: equality checks (assert, Jest) compare entries, not these.
  /** The entries, once gathered: never changed afterwards, so every reader may share them. */
  #entries: Map<K, V> | null;
  /** The map this one changes, until the entries are gathered (then the chain is let go). */
  #base: PersistentMap<K, V> | null;
  readonly #change: readonly [K, V] | null;

  private constructor(base: PersistentMap<K, V> | null, change: readonly [K, V] | null, entries: Map<K, V> | null) {
    this.#base = base;
    this.#change = change;
    this.#entries = entries;
  }

  static of<K, V>(entries: Iterable<readonly [K, V]> = []): PersistentMap<K, V> {
    return new PersistentMap<K, V>(null, null, new Map(entries));
  }

  set(key: K, value: V): PersistentMap<K, V> {
    return new PersistentMap(this, [key, value], null);
  }

  private entriesMap(): Map<K, V> {
    return PersistentMap.gather(this);
  }

  private static gather<K, V>(map: PersistentMap<K, V>): Map<K, V> {
    if (map.#entries) return map.#entries;
    const changes: (readonly [K, V])[] = [];
    let node: PersistentMap<K, V> | null = map;
    while (node && !node.#entries) {
      if (node.#change) changes.push(node.#change);
      node = node.#base;
    }
    const entries = new Map(node === null ? [] : (node.#entries ?? []));
    for (let index = changes.length - 1; index >= 0; index -= 1) entries.set(changes[index]![0], changes[index]![1]);
    map.#entries = entries;
    map.#base = null;
    return entries;
  }

  get size(): number {
    return this.entriesMap().size;
  }

  get(key: K): V | undefined {
    const found = PersistentMap.recent(this, key);
    return found === NOT_RECENT ? this.entriesMap().get(key) : found?.[1];
  }

  has(key: K): boolean {
    const found = PersistentMap.recent(this, key);
    return found === NOT_RECENT ? this.entriesMap().has(key) : found !== undefined;
  }

  /**
   * A key looked up among the last few changes and the entries under them, without gathering every entry: a
   * command reads one or two keys of a state a few events newer than its last read. Its change (or undefined when
   * absent), or NOT_RECENT when the changes go back further than RECENT (the entries are gathered then).
   */
  private static recent<K, V>(map: PersistentMap<K, V>, key: K): readonly [K, V] | undefined | typeof NOT_RECENT {
    let node: PersistentMap<K, V> | null = map;
    for (let steps = 0; node && steps <= RECENT; steps += 1) {
      if (node.#entries) return node.#entries.has(key) ? [key, node.#entries.get(key)!] : undefined;
      if (node.#change && sameValueZero(node.#change[0], key)) return node.#change;
      node = node.#base;
    }
    return NOT_RECENT;
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entriesMap()) callback.call(thisArg, value, key, this);
  }

  entries(): MapIterator<[K, V]> {
    return this.entriesMap().entries();
  }

  keys(): MapIterator<K> {
    return this.entriesMap().keys();
  }

  values(): MapIterator<V> {
    return this.entriesMap().values();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
}
