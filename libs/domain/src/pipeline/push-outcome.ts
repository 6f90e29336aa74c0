import { MAX_STATUS_DESCRIPTION, failureReason, withoutServerPaths } from '../naming.js';

/** One function of a push that did not deploy, and why: `why` starts with its stack key (`fn2: unknown language …`). */
export type FunctionFailure = Readonly<{ function: string; why: string }>;

/** A push outcome in words: whole for the pushes read model, and cut to fit a commit status description. */
export type OutcomeText = Readonly<{ description: string; detail: string | null }>;

/** Below this many characters per function, a cut reason says nothing: the description names the functions alone. */
const MIN_SHARE = 16;
const SEPARATOR = '; ';

/** `2 of 3 function(s) failed: fn2: unknown language "cobol" (…); fn3: build failed: …` */
export const failedFunctions = (failures: readonly FunctionFailure[], total: number): OutcomeText =>
  outcome(`${failures.length} of ${total} function(s) failed`, failures);

/** Every function of the stack file was refused at source: nothing is built. */
export const nothingToBuild = (failures: readonly FunctionFailure[]): OutcomeText => outcome('no function can be built', failures);

/**
 * `head: why1; why2` whole, and within GitHub's 140 characters: each reason keeps an equal share of the room (a
 * short one gives what it does not use to the others) and is cut with `…`; with too many functions for a share
 * worth reading, the description names them (`head: fn1, fn2, …`) and the read model keeps the reasons.
 */
function outcome(head: string, failures: readonly FunctionFailure[]): OutcomeText {
  const items = failures.map((failure) => withoutServerPaths(failure.why).replace(/\s+/g, ' ').trim());
  const whole = items.length === 0 ? head : `${head}: ${items.join(SEPARATOR)}`;
  if (whole.length <= MAX_STATUS_DESCRIPTION) return { description: whole, detail: null };
  const room = MAX_STATUS_DESCRIPTION - head.length - 2 - SEPARATOR.length * (items.length - 1);
  const detail = failureReason(whole);
  if (room / items.length < MIN_SHARE) return { description: cut(`${head}: ${failures.map((f) => f.function).join(', ')}`), detail };
  const shares = new Map<number, number>();
  let left = room;
  const byLength = items.map((item, index) => ({ item, index })).sort((a, b) => a.item.length - b.item.length);
  byLength.forEach(({ item, index }, rank) => {
    const share = Math.min(item.length, Math.floor(left / (byLength.length - rank)));
    shares.set(index, share);
    left -= share;
  });
  const fitted = items.map((item, index) => cut(item, shares.get(index)!));
  return { description: `${head}: ${fitted.join(SEPARATOR)}`, detail };
}

const cut = (text: string, length = MAX_STATUS_DESCRIPTION) => (text.length <= length ? text : `${text.slice(0, length - 1)}…`);
