import { fold, type Command, type Decider, type Event, type StreamId } from '#domain';
import { WrongExpectedVersion, type AppendResult, type CausationMetadata, type EventStore } from './event-store.port.js';

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

/** A stream's state as the decider folds it, with the version it was read at. */
export async function readState<E extends Event, S>(
  store: EventStore,
  decider: Pick<Decider<Command, E, S>, 'evolve' | 'initialState'>,
  streamId: StreamId<E>,
): Promise<Readonly<{ version: number; state: S }>> {
  const { version, events } = await store.readStream(streamId);
  return { version, state: fold(decider, events) };
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
      return { state: decided.reduce(decider.evolve, state), result };
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
