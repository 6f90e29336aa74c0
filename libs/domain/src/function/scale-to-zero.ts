import { formatDuration, parseWatchdogDuration } from './call-timeouts.js';

/**
 * Whether a function may be stopped when idle: OpenFaaS's label. OpenFaaS Cloud deployed every function with it
 * `true` unless the stack file said otherwise, so an unset label means yes here too.
 */
export const SCALE_TO_ZERO_LABEL = 'com.openfaas.scale.zero';
/** How long a function may go without a call before it is stopped: OpenFaaS Pro's label, a Go duration like `5m`. */
export const ZERO_DURATION_LABEL = 'com.openfaas.scale.zero-duration';
/** The shortest idle time a label may ask for: shorter would stop a function between two calls of one burst. */
export const MIN_IDLE_MS = 1000;

export type IdlePolicy = Readonly<{
  /** How long without a call before the function's process stops; null: it runs as long as it is deployed. */
  idleMs: number | null;
  /** Labels that were ignored (unreadable) or raised to the minimum, in words for the function's log. */
  notes: readonly string[];
}>;

// Go's strconv.ParseBool, which OpenFaaS Cloud read the label with.
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * A function's idle policy from its labels. `defaultIdleMs` is the server's (SCALE_TO_ZERO_IDLE); null turns
 * scaling to zero off for every function whatever its labels say. A label that cannot be read is ignored, as
 * OpenFaaS Cloud ignored it, and said in the function's log.
 */
export function idlePolicy(labels: Readonly<Record<string, string>> | null | undefined, defaultIdleMs: number | null): IdlePolicy {
  if (defaultIdleMs === null) return { idleMs: null, notes: [] };
  const notes: string[] = [];
  const zero = labels?.[SCALE_TO_ZERO_LABEL]?.trim() ?? '';
  if (FALSE.has(zero)) return { idleMs: null, notes };
  if (zero !== '' && !TRUE.has(zero)) notes.push(`${SCALE_TO_ZERO_LABEL} ${JSON.stringify(zero)} is not true or false: read as true`);
  const raw = labels?.[ZERO_DURATION_LABEL];
  if (raw === undefined || raw.trim() === '') return { idleMs: defaultIdleMs, notes };
  const ms = parseWatchdogDuration(raw);
  if (ms === null || ms <= 0) {
    notes.push(
      `${ZERO_DURATION_LABEL} ${JSON.stringify(raw)} is not a duration (like 5m or 90s): idle after ${formatDuration(defaultIdleMs)}`,
    );
    return { idleMs: defaultIdleMs, notes };
  }
  if (ms < MIN_IDLE_MS) {
    notes.push(`${ZERO_DURATION_LABEL} ${raw} is less than ${formatDuration(MIN_IDLE_MS)}: idle after ${formatDuration(MIN_IDLE_MS)}`);
    return { idleMs: MIN_IDLE_MS, notes };
  }
  return { idleMs: ms, notes };
}
