import type { Event } from './events.js';

/** A command as the domain sees it: what was asked, with the time it was asked (deciders have no clock). */
export type Command<Type extends string = string, Data = unknown> = Readonly<{
  type: Type;
  data: Data extends object ? Readonly<Data> : Data;
}>;

/**
 * One stream's rules: `decide` turns a command into events given the state folded from earlier events.
 * Pure: no I/O, no clock, no randomness. Returning `[]` makes a retried or duplicated command harmless.
 */
export type Decider<C extends Command, E extends Event, S> = Readonly<{
  decide: (command: C, state: S) => readonly E[];
  evolve: (state: S, event: E) => S;
  initialState: () => S;
  /** Set for streams that grow without bound (a function's builds, a repository's pushes): see `Snapshots`. */
  snapshot?: Snapshots<S>;
}>;

/**
 * How a decider's folded state is kept as JSON, so a long stream is not folded from its first event on every
 * command. `version` changes with the state's shape (or with `evolve`): a snapshot of another version is never
 * read. `fromJson(toJson(state))` must fold on exactly like `state`.
 */
export type Snapshots<S> = Readonly<{
  /** Which fold of the stream this is: one stream may be folded by more than one decider. */
  name: string;
  version: number;
  toJson: (state: S) => unknown;
  fromJson: (json: unknown) => S;
}>;

/**
 * A process's rules, shaped like a decider: `decide` answers an input (an event, or what a step found) with the
 * commands to run next, `[]` to ignore it; `evolve` folds the inputs into what the next decision needs.
 */
export type Workflow<I, C, S> = Readonly<{
  decide: (input: I, state: S) => readonly C[];
  evolve: (state: S, input: I) => S;
  initialState: () => S;
}>;

export const fold = <E extends Event, S>(decider: Pick<Decider<Command, E, S>, 'evolve' | 'initialState'>, events: readonly E[]): S =>
  events.reduce(decider.evolve, decider.initialState());

/**
 * A command the rules refuse outright, for whoever asked to act on (`not-found`: nothing of that name or id;
 * `conflict`: it exists but the rules say no). Pipeline commands never throw it: their refusals are events.
 */
export class CommandRefused extends Error {
  constructor(
    readonly kind: 'not-found' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'CommandRefused';
  }
}
