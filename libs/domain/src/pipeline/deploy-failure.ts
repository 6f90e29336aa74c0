import { withoutServerPaths } from '../naming.js';

/** Why one deploy attempt did not take, as the gateway adapter reports it. */
export type DeployAttemptFailure =
  /** The function's process ended before its health check answered: its code fails at load time. */
  | Readonly<{ kind: 'crashed-at-start'; exit: string; output: readonly string[] }>
  /** The gateway refused the deploy (a 4xx): the same request would be refused again. */
  | Readonly<{ kind: 'refused'; message: string }>
  /** The gateway could not take it now (unreachable, 5xx, 429, a start that did not answer in time). */
  | Readonly<{ kind: 'unavailable'; message: string }>;

export type DeployVerdict = Readonly<{ retry: true }> | Readonly<{ retry: false; reason: string }>;

/**
 * Whether a failed deploy is tried again. Only what may pass by itself is: an unavailable gateway, up to the last
 * attempt. A function that crashed before it was healthy would crash the same way each time (same image, same
 * code), so it fails at once with the error it printed; a refusal too.
 */
export function afterFailedDeploy(failure: DeployAttemptFailure, attempt: number, maxAttempts: number): DeployVerdict {
  switch (failure.kind) {
    case 'crashed-at-start':
      return { retry: false, reason: crashReason(failure.exit, failure.output) };
    case 'refused':
      return { retry: false, reason: failure.message };
    case 'unavailable':
      return attempt < maxAttempts ? { retry: true } : { retry: false, reason: failure.message };
  }
}

/** The most of a crash's output a reason quotes (a commit status shows 140 characters of it anyway). */
const MAX_QUOTED = 300;
/** An error line as node and python print them: `Error: …`, `TypeError: …`, `ModuleNotFoundError: …`, `SyntaxError: …`. */
const ERROR_LINE = /^(?:[\w$]+\.)*[\w$]*(?:Error|Exception)\b:?/;
const NOISE = [/^\s*$/, /^\s*\^+\s*$/, /^\s+at /, /^Node\.js v\d/, /^Traceback \(most recent call last\):/, /^\s*File "/];

/**
 * A crash at start in words: how it ended, then what it printed (see `quotedOutput`).
 */
export function crashReason(exit: string, output: readonly string[]): string {
  const text = quotedOutput(output);
  return `crashed at start (${exit})${text ? `: ${text}` : ', printing nothing'}`;
}

/**
 * What a function printed, in words: its first error line (what node and python print as `<Kind>Error: <message>`),
 * or else its first meaningful lines; server paths never appear and the text is bounded. Empty when it printed nothing.
 */
export function quotedOutput(output: readonly string[]): string {
  const lines = output.map((line) => withoutServerPaths(line.trimEnd()));
  const error = lines.find((line) => ERROR_LINE.test(line));
  const meaningful = error !== undefined ? [error] : lines.filter((line) => !NOISE.some((noise) => noise.test(line))).slice(0, 3);
  const quoted = meaningful.join(' | ');
  return quoted.length > MAX_QUOTED ? `${quoted.slice(0, MAX_QUOTED - 1)}…` : quoted;
}
