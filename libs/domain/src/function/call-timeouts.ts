/**
 * How long a call to a function may take, from the OpenFaaS settings in its `environment` (stack.yml), as the
 * watchdogs read them: `exec_timeout` (how long the handler may run), `read_timeout` (receiving the request) and
 * `write_timeout` (until the response is written). Each is a Go duration (`2s`, `1m30s`, `500ms`) or plain
 * seconds (`30`); a value the watchdog cannot read is ignored, as the watchdog ignores it.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const GO_DURATION = /^([+-])?((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/;
const TERM = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/** A watchdog timeout in milliseconds (`parseIntOrDurationValue`): plain seconds or a Go duration; null when unreadable. */
export function parseWatchdogDuration(text: string | undefined): number | null {
  const value = (text ?? '').trim();
  if (value === '') return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const match = GO_DURATION.exec(value);
  if (!match) return null;
  let ms = 0;
  for (const [, amount, unit] of match[2]!.matchAll(TERM)) ms += Number(amount) * UNIT_MS[unit!]!;
  return match[1] === '-' ? -ms : ms;
}

/** A duration for people and for status lines: `2s`, `1m30s`, `1.5s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms - minutes * 60_000) / 100) / 10;
  if (minutes === 0) return `${seconds}s`;
  return seconds === 0 ? `${minutes}m` : `${minutes}m${seconds}s`;
}

export type CallTimeouts = Readonly<{
  /** The whole call: until the response is written. */
  callMs: number;
  /** Receiving the request body from the caller. */
  readMs: number;
  /** Settings that were ignored (unreadable) or cut to the server's maximum, in words for the function's log. */
  notes: readonly string[];
}>;

export type CallTimeoutPolicy = Readonly<{ defaultMs: number; maxMs: number }>;

/**
 * A function's call bounds on the embedded gateway. The call ends at the first of `exec_timeout` and
 * `write_timeout` that is set (OpenFaaS cuts at whichever comes first), `defaultMs` when neither is; the request
 * must arrive within `read_timeout` (the call's bound when unset). Zero or less means "no limit" to a watchdog:
 * here that is the default, and nothing is ever longer than the server's maximum.
 */
export function callTimeouts(environment: Readonly<Record<string, string>>, policy: CallTimeoutPolicy): CallTimeouts {
  const notes: string[] = [];
  const setting = (name: string): number | null => {
    const raw = environment[name];
    if (raw === undefined) return null;
    const ms = parseWatchdogDuration(raw);
    if (ms === null) {
      notes.push(`${name} ${JSON.stringify(raw)} is not a duration (like 30s or 1m30s): ignored`);
      return null;
    }
    if (ms <= 0) return null;
    if (ms > policy.maxMs) {
      notes.push(`${name} ${raw} is more than the server's maximum: ${formatDuration(policy.maxMs)}`);
      return policy.maxMs;
    }
    return ms;
  };
  const exec = setting('exec_timeout');
  const write = setting('write_timeout');
  const read = setting('read_timeout');
  const set = [exec, write].filter((ms): ms is number => ms !== null);
  const callMs = set.length > 0 ? Math.min(...set) : Math.min(policy.defaultMs, policy.maxMs);
  return { callMs, readMs: read === null ? callMs : Math.min(read, callMs), notes };
}
