import { deepStrictEqual, throws } from 'node:assert/strict';
import { fold, type Command, type Decider } from './decider.js';
import type { Event } from './events.js';

/**
 * Given/when/then for deciders: `given(...history).when(command).then(...expected)`.
 * The history is folded with the decider's own `evolve`, so a spec exercises all three functions.
 */
export function specFor<C extends Command, E extends Event, S>(decider: Decider<C, E, S>) {
  return (...history: readonly E[]) => ({
    when: (command: C) => {
      const run = () => decider.decide(command, fold(decider, history));
      return {
        then: (...expected: readonly E[]) => deepStrictEqual(run(), expected),
        thenNothing: () => deepStrictEqual(run(), []),
        thenThrows: (message: RegExp) => throws(run, message),
      };
    },
  });
}
