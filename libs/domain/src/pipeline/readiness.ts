import { CLOUD_LABEL } from './deployment.js';
import { quotedOutput } from './deploy-failure.js';
import { withoutServerPaths } from '../naming.js';

/**
 * A function as `GET /system/function/{name}` answers it after a deploy: the image its deployment now names and how
 * many of its replicas are available; null when the gateway does not know the function (404).
 */
export type ReplicaStatus = Readonly<{
  image: string;
  availableReplicas: number;
  replicas?: number;
  labels?: Readonly<Record<string, string>> | null;
}> | null;

export type ReadinessCheck = Readonly<{
  /** The image the deploy asked for, as the gateway names it (REGISTRY_PULL applied). */
  image: string;
  observed: ReplicaStatus;
  /** When the wait ends: see `readinessDeadline`. */
  deadlineMs: number;
  nowMs: number;
}>;

export type ReadinessVerdict = Readonly<{ kind: 'ready' }> | Readonly<{ kind: 'wait'; pollInMs: number }> | Readonly<{ kind: 'not-ready' }>;

/** Between two polls of a function that is not ready yet: faas-netes answers from its informer cache, cheap to ask. */
export const READINESS_POLL_MS = 1000;

/**
 * Whether a deploy on an external gateway took: the gateway answers a deploy (202) long before the new image runs,
 * so a deploy is recorded only once an available replica runs the image it asked for. Replicas of any other image
 * (the previous version still rolling out) do not count. Past the deadline it did not take.
 * A function the gateway scaled to zero (`replicas: 0`, wanted, not missing) with the new image is deployed: it
 * starts on its next call, and waiting for a replica nobody asks for would fail a deploy that took (the embedded
 * gateway answered its deploy once the function was healthy; a faas-netes update of a function at zero keeps 0).
 */
export function readiness({ image, observed, deadlineMs, nowMs }: ReadinessCheck): ReadinessVerdict {
  if (observed !== null && observed.image === image && (observed.availableReplicas >= 1 || observed.replicas === 0))
    return { kind: 'ready' };
  if (nowMs >= deadlineMs) return { kind: 'not-ready' };
  return { kind: 'wait', pollInMs: Math.max(1, Math.min(READINESS_POLL_MS, deadlineMs - nowMs)) };
}

/**
 * When the wait for a deploy ends: DEPLOY_READY_TIMEOUT after the deploy. A deploy step re-run after a restart
 * finds its deploy on the gateway and counts from the deploy time the gateway keeps (`git-deploytime`, set by
 * `functionDeployment`), so a restart neither restarts the clock nor waits twice; without that label, from now.
 */
export function readinessDeadline(observed: ReplicaStatus, sha: string, nowMs: number, timeoutMs: number): number {
  const labels = observed?.labels;
  const deployedAt = Number(labels?.[`${CLOUD_LABEL}git-deploytime`]);
  const ours = labels?.[`${CLOUD_LABEL}git-sha`] === sha && Number.isFinite(deployedAt) && deployedAt > 0;
  // Labels hold whole seconds: the deadline is never earlier than the wait asked for.
  return ours ? Math.min(nowMs, (deployedAt + 1) * 1000) + timeoutMs : nowMs + timeoutMs;
}

/** The version a failed deploy leaves serving, from the function's last recorded deploy. */
export type RollbackTarget = Readonly<{ buildId: string; sha: string; image: string }>;

export type NotReadyOutcome = Readonly<{
  reason: string;
  /** The function's last log lines as the gateway gave them, server paths removed and bounded. */
  logs: readonly string[];
  /** The version the gateway goes back to, or null when there is none (a first deploy) or it is this very image. */
  rollbackTo: RollbackTarget | null;
  /** A first deploy: nothing ran before it, so it leaves the gateway rather than crash-loop there uncounted. */
  remove: boolean;
}>;

/** The most log lines a failed deploy keeps: enough for a stack trace, little enough for an event. */
export const MAX_LOG_LINES = 30;
const MAX_LOG_LINE = 500;
/** What the watchdogs put before a function's own output: `2026/12/02 06:00:01 stderr: `. */
const WATCHDOG_PREFIX = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(?:\.\d+)? (?:std(?:err|out): )?/;

/**
 * A deploy that never became ready fails with why (how many replicas were available, and the function's own error
 * line from its log when it printed one, as a crash at start is told), and the version deployed before it goes
 * back on the gateway (when the push it came from is recorded: `redeployable`): an update must not leave a function
 * that answered before answering nothing. A first deploy has nothing to go back to: it is removed from the gateway,
 * where it would restart for good, taking resources no quota counts (only recorded deploys count).
 */
export function notReady(
  input: Readonly<{
    timeoutMs: number;
    observed: ReplicaStatus;
    logs: readonly string[];
    /** What runs as far as the events know: the last recorded deploy, or null. */
    previous: RollbackTarget | null;
    /** Whether the previous version's push and stack entry are recorded, so it can be deployed again. */
    redeployable: boolean;
    /** The failed deploy's image. */
    image: string;
  }>,
): NotReadyOutcome {
  const logs = input.logs.slice(-MAX_LOG_LINES).map((line) => withoutServerPaths(line.trimEnd()).slice(0, MAX_LOG_LINE));
  const replicas = input.observed
    ? `${input.observed.availableReplicas} of ${input.observed.replicas ?? 1} replica(s) available`
    : 'the gateway lost the function';
  const quoted = quotedOutput(logs.map((line) => line.replace(WATCHDOG_PREFIX, '')));
  const told = quoted ? `: ${quoted}` : ', printing nothing';
  const rollbackTo = input.previous !== null && input.redeployable && input.previous.image !== input.image ? input.previous : null;
  const remove = input.previous === null;
  const then = rollbackTo ? `; back to ${rollbackTo.sha.slice(0, 7)}` : remove ? '; removed' : '';
  return { reason: `not ready after ${seconds(input.timeoutMs)} (${replicas})${then}${told}`, logs, rollbackTo, remove };
}

const seconds = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`);
