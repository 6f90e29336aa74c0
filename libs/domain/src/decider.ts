import type { Event } from './events.js';

/** A command as the domain sees it: what was asked, with the time it was asked (deciders have no clock). */
export type Command<Type extends string = string, Data = unknown> = Readonly<{ type: Type; data: Data extends object ? Readonly<Data> : Data }>;

/**
 * One stream's rules: `decide` turns a command into events given the state folded from earlier events.
 * Pure: no I/O, no clock, no randomness. Returning `[]` makes a retried or duplicated command harmless.
 */
export type Decider<C extends Command, E extends Event, S> = Readonly<{
  decide: (command: C, state: S) => readonly E[];
  evolve: (state: S, event: E) => S;
  initialState: () => S;
}>;

/** A rule the command broke; the message is for the user who sent it. */
export class DomainRuleViolation extends Error {
  override readonly name = 'DomainRuleViolation';
}

export const fold = <E extends Event, S>(decider: Pick<Decider<Command, E, S>, 'evolve' | 'initialState'>, events: readonly E[]): S =>
  events.reduce(decider.evolve, decider.initialState());
