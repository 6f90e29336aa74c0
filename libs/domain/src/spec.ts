import { deepStrictEqual, throws } from 'node:assert/strict';
import { CommandRefused, fold, type Command, type Decider, type Workflow } from './decider.js';
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
        /** The command is refused (see CommandRefused) with this kind and message. */
        thenRefuses: (kind: CommandRefused['kind'], message: string) =>
          throws(run, (error: unknown) => {
            if (!(error instanceof CommandRefused)) throw error;
            deepStrictEqual({ kind: error.kind, message: error.message }, { kind, message });
            return true;
          }),
      };
    },
  });
}

/**
 * Given/when/then for workflows: `given(...earlier events).when(event).then(...commands)`. `commands()` hands the
 * decision over when a rule is about part of it (which steps, in what order).
 */
export function workflowSpecFor<I, C, S>(workflow: Workflow<I, C, S>) {
  return (...history: readonly I[]) => ({
    when: (input: I) => {
      const commands = () => [...workflow.decide(input, history.reduce(workflow.evolve, workflow.initialState()))];
      return {
        then: (...expected: readonly C[]) => deepStrictEqual(commands(), expected),
        thenNothing: () => deepStrictEqual(commands(), []),
        commands,
      };
    },
  });
}
