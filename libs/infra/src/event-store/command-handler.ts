import { fold, type Command, type Decider, type Event, type Snapshots, type StreamId } from '#domain';
import { WrongExpectedVersion, type AppendResult, type CausationMetadata, type EventStore, type StreamRead } from './event-store.port.js';

export type HandledCommand<S> = Readonly<{ state: S; result: AppendResult | null }>;

export type HandleOptions<E, S> = Readonly<{
  /** Tries before a conflict is given up on. */
  attempts?: number;
  /**
   * Carries a decision out before it is recorded: a crash in between leaves nothing recorded, so the re-run
   * decides and acts again instead of recording what never happened. Called again after a conflict, with the new
   * decision. Throwing records nothing.
   */
  act?: (decided: readonly E[], state: S) => Promise<void>;
}>;

/** Events folded beyond the last snapshot kept before another is written. */
export const SNAPSHOT_EVERY = 50;
/**
 * Streams whose newest fold one process keeps in memory, per store. A function with 10,000 builds takes about 6 MB
 * folded, so even this many such functions stay under 200 MB; a push touches a few streams, a few pushes run at once.
 */
const MEMO_SIZE = 32;

type Folded<S> = Readonly<{ version: number; eventId: string; state: S; kept: number }>;
type FoldingDecider<E extends Event, S> = Pick<Decider<Command, E, S>, 'evolve' | 'initialState' | 'snapshot'>;

/**
 * The newest fold of each recently read stream, per store: a process that reads a stream again reads only the
 * events since, without parsing its snapshot again. Like a snapshot it is checked against the event it ends with.
 */
const memos = new WeakMap<EventStore, Map<string, Folded<unknown>>>();
const snapshotWrites = new Set<Promise<void>>();

/** Resolves once the snapshots being written now are written (or given up): for tests and shutdown. */
export async function snapshotsWritten(): Promise<void> {
  while (snapshotWrites.size > 0) await Promise.all(snapshotWrites);
}

/**
 * A stream's state as the decider folds it, with the version it was read at. A decider with `snapshot` starts from
 * the newest fold this process holds, else from the stored snapshot of its name and version, and folds only the
 * events after it; every SNAPSHOT_EVERY events folded beyond the stored snapshot, a new one is written off the
 * caller's path. A snapshot (or memo) whose last event is not the one stored at its version is not used.
 */
export async function readState<E extends Event, S>(
  store: EventStore,
  decider: FoldingDecider<E, S>,
  streamId: StreamId<E>,
): Promise<Readonly<{ version: number; state: S }>> {
  const snapshots = decider.snapshot;
  if (!snapshots) {
    const { version, events } = await store.readStream(streamId);
    return { version, state: fold(decider, events) };
  }
  const key = memoKey(snapshots as Snapshots<unknown>, streamId);
  const memo = memoOf(store);
  let base = memo.get(key) as Folded<S> | undefined;
  let read = base && (await readAfter(store, streamId, base));
  if (!read) {
    memo.delete(key);
    const stored = await store.readSnapshot(streamId, snapshots.name, snapshots.version).catch(() => null);
    base = stored
      ? { version: stored.version, eventId: stored.eventId, state: snapshots.fromJson(stored.state), kept: stored.version }
      : undefined;
    read = base && (await readAfter(store, streamId, base));
  }
  if (!read || !base) {
    base = { version: 0, eventId: '', state: decider.initialState(), kept: 0 };
    read = await store.readStream(streamId);
  }
  const state = read.events.reduce(decider.evolve, base.state);
  const last = read.events.at(-1);
  const folded: Folded<S> = last ? { version: read.version, eventId: last.metadata.eventId, state, kept: base.kept } : base;
  remember(memo, key, folded);
  if (folded.version - folded.kept >= SNAPSHOT_EVERY) keepSnapshot(store, memo, key, streamId, snapshots, folded);
  return { version: folded.version, state };
}

/** The events after `base`, or null when the event it ends with is no longer the one at its version. */
async function readAfter<E extends Event>(store: EventStore, streamId: StreamId<E>, base: Folded<unknown>): Promise<StreamRead<E> | null> {
  if (base.version === 0) return store.readStream(streamId);
  const read = await store.readStream(streamId, { from: base.version });
  const [first, ...after] = read.events;
  return first?.metadata.eventId === base.eventId ? { version: read.version, events: after } : null;
}

const memoKey = (snapshots: Snapshots<unknown>, streamId: string) => `${snapshots.name}@${snapshots.version}:${streamId}`;

/** Moves the memo of `streamId` from `from` on to `folded`, if it still ends at `from` (else the next read sees to it). */
function advanceMemo<S>(store: EventStore, snapshots: Snapshots<S>, streamId: string, from: number, folded: Omit<Folded<S>, 'kept'>): void {
  const memo = memoOf(store);
  const key = memoKey(snapshots as Snapshots<unknown>, streamId);
  const current = memo.get(key);
  if (current?.version === from) remember(memo, key, { ...folded, kept: current.kept });
}

function memoOf(store: EventStore): Map<string, Folded<unknown>> {
  let memo = memos.get(store);
  if (!memo) memos.set(store, (memo = new Map()));
  return memo;
}

function remember(memo: Map<string, Folded<unknown>>, key: string, folded: Folded<unknown>): void {
  // Re-inserted so the map's order is least recently used first.
  memo.delete(key);
  memo.set(key, folded);
  if (memo.size > MEMO_SIZE) memo.delete(memo.keys().next().value!);
}

/** Written in the background: a snapshot lost (a crash, a failed write) only means a longer fold next time. */
function keepSnapshot<S>(
  store: EventStore,
  memo: Map<string, Folded<unknown>>,
  key: string,
  streamId: string,
  snapshots: Snapshots<S>,
  folded: Folded<S>,
): void {
  // Serialised after the caller has its state: a function's snapshot is megabytes of JSON.
  const written = new Promise<void>((resolve) => setImmediate(resolve))
    .then(() =>
      store.writeSnapshot(streamId, {
        name: snapshots.name,
        schemaVersion: snapshots.version,
        version: folded.version,
        eventId: folded.eventId,
        state: snapshots.toJson(folded.state),
      }),
    )
    .catch(() => undefined)
    .finally(() => snapshotWrites.delete(written));
  snapshotWrites.add(written);
  // Not written again by the next read while this write is on its way.
  memo.set(key, { ...folded, kept: folded.version });
}

/**
 * Load, decide, append with the loaded version; on a concurrent write, load again and decide again. The
 * decider sees the newest state every time, so a retry can legitimately decide to do nothing.
 */
export async function handleCommand<C extends Command, E extends Event, S>(
  store: EventStore,
  decider: Decider<C, E, S>,
  streamId: StreamId<E>,
  command: C,
  metadata: CausationMetadata,
  { attempts = 10, act }: HandleOptions<E, S> = {},
): Promise<HandledCommand<S>> {
  for (let attempt = 1; ; attempt += 1) {
    const { version, state } = await readState(store, decider, streamId);
    const decided = decider.decide(command, state);
    if (decided.length === 0) return { state, result: null };
    await act?.(decided, state);
    try {
      const result = await store.append(streamId, version, decided, metadata);
      const next = decided.reduce(decider.evolve, state);
      const last = result.events.at(-1);
      // What was appended is what the next read would fold: the memo moves on without reading it back.
      if (decider.snapshot && !result.duplicate && last && result.nextExpectedVersion === version + decided.length)
        advanceMemo(store, decider.snapshot, streamId, version, {
          version: result.nextExpectedVersion,
          eventId: last.metadata.eventId,
          state: next,
        });
      return { state: next, result };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion) || attempt >= attempts) throw error;
    }
  }
}

/**
 * For decisions that by design read no earlier events (a push is accepted on its own merits): decide against
 * the initial state and append without a version check, so concurrent writers to one stream never conflict.
 */
export async function recordDecision<C extends Command, E extends Event, S>(
  store: EventStore,
  decider: Decider<C, E, S>,
  streamId: StreamId<E>,
  command: C,
  metadata: CausationMetadata,
): Promise<AppendResult | null> {
  const decided = decider.decide(command, decider.initialState());
  return decided.length === 0 ? null : store.append(streamId, 'any', decided, metadata);
}
