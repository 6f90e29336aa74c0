import { fold, type Command, type Decider, type Event } from '#domain';
import { WrongExpectedVersion, type AppendResult, type CausationMetadata, type EventStore } from './event-store.port.js';

export type HandledCommand<S> = Readonly<{ state: S; result: AppendResult | null }>;

/**
 * Load, decide, append with the loaded version; on a concurrent write, load again and decide again. The
 * decider sees the newest state every time, so a retry can legitimately decide to do nothing.
 */
export async function handleCommand<C extends Command, E extends Event, S>(
  store: EventStore,
  decider: Decider<C, E, S>,
  streamId: string,
  command: C,
  metadata: CausationMetadata,
  attempts = 10,
): Promise<HandledCommand<S>> {
  for (let attempt = 1; ; attempt += 1) {
    const { version, events } = await store.readStream(streamId);
    const state = fold(decider, events as unknown as E[]);
    const decided = decider.decide(command, state);
    if (decided.length === 0) return { state, result: null };
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
  streamId: string,
  command: C,
  metadata: CausationMetadata,
): Promise<AppendResult | null> {
  const decided = decider.decide(command, decider.initialState());
  return decided.length === 0 ? null : store.append(streamId, 'any', decided, metadata);
}
