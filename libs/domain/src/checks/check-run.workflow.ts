import type { Workflow } from '../decider.js';
import { isOneOf, type CheckRunConclusion, type EventOf, type PushReceived, type RecordedEvent } from '../events.js';
import { withoutServerPaths } from '../naming.js';

/**
 * GitHub Checks for a push, beside its commit statuses: one check run per delivery, in progress from the moment
 * the push is accepted and completed once its last function settles, with a summary of every function and the
 * end of a failed build's log, and an annotation on the stack file for each function that failed. Only pushes
 * that came through an App installation get one: the Checks API takes installation tokens only.
 */

export const CHECK_RUN_NAME = 'faasline';
/** GitHub's limits: a longer summary is refused (422), more annotations per request too. */
export const MAX_CHECK_SUMMARY = 65_535;
export const MAX_ANNOTATIONS_PER_REQUEST = 50;
/** Lines of a failed build's log shown in the summary. */
export const LOG_TAIL_LINES = 30;

export const checkRunInputTypes = [
  'PushReceived',
  'SourceFetched',
  'SourceRejected',
  'BuildSucceeded',
  'BuildReused',
  'BuildFailed',
  'BuildSuperseded',
  'FunctionDeployed',
  'DeployFailed',
] as const;

export type CheckRunInput = RecordedEvent<EventOf<typeof checkRunInputTypes>>;
export const isCheckRunInput = isOneOf(checkRunInputTypes);

export type CheckRunAnnotation = Readonly<{
  path: string;
  startLine: number;
  endLine: number;
  level: 'notice' | 'warning' | 'failure';
  title: string;
  message: string;
}>;

export type CheckRunLink = Readonly<{ kind: 'log'; buildId: string }> | null;

export type ReportCheckRun = Readonly<{
  type: 'ReportCheckRun';
  owner: string;
  repo: string;
  sha: string;
  installationId: number;
  deliveryId: string;
  name: string;
  status: 'in_progress' | 'completed';
  startedAt: string;
  completedAt: string | null;
  conclusion: CheckRunConclusion | null;
  title: string;
  summary: string;
  annotations: readonly CheckRunAnnotation[];
  link: CheckRunLink;
}>;

type Outcome = 'building' | 'built' | 'deployed' | 'failed' | 'superseded';

/** One function of the push as the check run tells it. Plain data: the state is kept as JSON between events. */
type FunctionLine = Readonly<{
  name: string;
  function: string;
  outcome: Outcome;
  /** `reused` for an unchanged image. */
  build: 'built' | 'reused' | null;
  durationMs: number | null;
  reason: string | null;
  logTail: string | null;
  /** A deploy that never became ready: the function's own last log lines on the gateway (absent in states kept before). */
  runLog?: string | null;
  buildId: string | null;
  endpoint: string | null;
}>;

export type CheckRunState = Readonly<{
  push: PushReceived['data'] | null;
  stackFile: string;
  /** The line of each function's key in the stack file, where the source step found it. */
  lines: Readonly<Record<string, number>>;
  functions: readonly FunctionLine[];
  rejected: readonly Readonly<{ function: string; name: string; reason: string }>[];
  completed: boolean;
}>;

export const initialState = (): CheckRunState => ({
  push: null,
  stackFile: 'stack.yml',
  lines: {},
  functions: [],
  rejected: [],
  completed: false,
});

const terminal = (outcome: Outcome) => outcome === 'deployed' || outcome === 'failed' || outcome === 'superseded';

export function evolve(state: CheckRunState, input: CheckRunInput): CheckRunState {
  const update = (name: string, change: Partial<FunctionLine>): CheckRunState =>
    state.functions.some((fn) => fn.name === name)
      ? { ...state, functions: state.functions.map((fn) => (fn.name === name ? { ...fn, ...change } : fn)) }
      : state;
  switch (input.type) {
    case 'PushReceived':
      return { ...state, push: input.data };
    case 'SourceFetched':
      return {
        ...state,
        stackFile: input.data.stackFile,
        lines: input.data.lines ?? {},
        functions: input.data.functions.map((spec) => ({
          name: spec.name,
          function: spec.function,
          outcome: 'building' as const,
          build: null,
          durationMs: null,
          reason: null,
          logTail: null,
          buildId: null,
          endpoint: null,
        })),
        rejected: input.data.rejected.map(({ function: key, name, reason }) => ({ function: key, name, reason })),
        completed: input.data.functions.length === 0,
      };
    case 'SourceRejected':
      return { ...state, completed: true };
    case 'BuildSucceeded':
      return update(input.data.name, { outcome: 'built', build: 'built', durationMs: input.data.durationMs, buildId: input.data.buildId });
    case 'BuildReused':
      return update(input.data.name, { outcome: 'built', build: 'reused', buildId: input.data.buildId });
    case 'BuildFailed':
      return settle(
        update(input.data.name, {
          outcome: 'failed',
          build: 'built',
          durationMs: input.data.durationMs,
          reason: `build failed: ${input.data.reason}`,
          logTail: input.data.logTail,
          buildId: input.data.buildId,
        }),
      );
    case 'DeployFailed':
      return settle(
        update(input.data.name, {
          outcome: 'failed',
          reason: `deploy failed: ${input.data.reason}`,
          runLog: input.data.logs?.length ? input.data.logs.join('\n') : null,
        }),
      );
    case 'BuildSuperseded':
      return settle(
        update(input.data.name, { outcome: 'superseded', reason: `not deployed: superseded by ${input.data.supersededBy.slice(0, 7)}` }),
      );
    case 'FunctionDeployed':
      // An earlier version a failed deploy went back to is not this push's deploy.
      if (state.push !== null && state.push.deliveryId !== input.data.deliveryId) return state;
      return settle(update(input.data.name, { outcome: 'deployed', endpoint: input.data.endpoint }));
  }
}

const settle = (state: CheckRunState): CheckRunState =>
  state.functions.length > 0 && state.functions.every((fn) => terminal(fn.outcome)) ? { ...state, completed: true } : state;

export function decide(input: CheckRunInput, state: CheckRunState): ReportCheckRun[] {
  const push = input.type === 'PushReceived' ? input.data : state.push;
  // Checks are for App installations only, and a check run completes once.
  if (!push || push.installationId === null || state.completed) return [];
  const report = (
    fields: Pick<ReportCheckRun, 'status' | 'conclusion' | 'title' | 'summary'> & Partial<Pick<ReportCheckRun, 'annotations' | 'link'>>,
  ): ReportCheckRun => ({
    type: 'ReportCheckRun',
    owner: push.owner,
    repo: push.repo,
    sha: push.sha,
    installationId: push.installationId!,
    deliveryId: push.deliveryId,
    name: CHECK_RUN_NAME,
    startedAt: push.receivedAt,
    completedAt: fields.status === 'completed' ? input.metadata.occurredAt : null,
    annotations: [],
    link: null,
    ...fields,
  });
  switch (input.type) {
    case 'PushReceived':
      return [
        report({
          status: 'in_progress',
          conclusion: null,
          title: 'Building',
          summary: `Push of ${push.sha.slice(0, 7)} to ${push.branch} by ${push.pusher}: reading the stack file.`,
        }),
      ];
    case 'SourceRejected':
      return [
        report({
          status: 'completed',
          conclusion: 'failure',
          title: 'The stack file was rejected',
          summary: `Nothing was built: ${input.data.reason}`,
          annotations: [annotation(state.stackFile, 'stack file', input.data.reason)],
        }),
      ];
    default: {
      const after = evolve(state, input);
      return after.completed ? [completion(after, report)] : [];
    }
  }
}

/** The check run once every function settled (or none could be built). */
function completion(
  state: CheckRunState,
  report: (fields: Pick<ReportCheckRun, 'status' | 'conclusion' | 'title' | 'summary' | 'annotations' | 'link'>) => ReportCheckRun,
): ReportCheckRun {
  const failed = state.functions.filter((fn) => fn.outcome === 'failed');
  const superseded = state.functions.filter((fn) => fn.outcome === 'superseded');
  const total = state.functions.length + state.rejected.length;
  const failures = [...state.rejected, ...failed.map((fn) => ({ function: fn.function, name: fn.name, reason: fn.reason ?? 'failed' }))];
  const conclusion: CheckRunConclusion = failures.length > 0 ? 'failure' : superseded.length > 0 ? 'cancelled' : 'success';
  const title =
    conclusion === 'success'
      ? `${total} function(s) deployed`
      : conclusion === 'cancelled'
        ? 'Not deployed: a newer push superseded this one'
        : `${failures.length} of ${total} function(s) failed: ${failures.map((f) => f.name).join(', ')}`;
  const firstLog = failed.find((fn) => fn.logTail !== null && fn.buildId !== null);
  return report({
    status: 'completed',
    conclusion,
    title: title.length <= 200 ? title : `${title.slice(0, 199)}…`,
    summary: summaryOf(state),
    annotations: failures
      .slice(0, MAX_ANNOTATIONS_PER_REQUEST)
      .map((f) => annotation(state.stackFile, f.name, f.reason, state.lines[f.function] ?? 1)),
    link: firstLog ? { kind: 'log', buildId: firstLog.buildId! } : null,
  });
}

/** On the function's line of the stack file, or on line 1 (the whole file) where its line is not known. */
const annotation = (path: string, title: string, reason: string, line = 1): CheckRunAnnotation => ({
  path,
  startLine: line,
  endLine: line,
  level: 'failure',
  title,
  message: withoutServerPaths(reason),
});

const STATUS_WORD: Readonly<Record<Outcome, string>> = {
  building: 'building',
  built: 'built',
  deployed: 'deployed',
  failed: 'failed',
  superseded: 'superseded',
};

const seconds = (ms: number | null) => (ms === null ? '' : `${(ms / 1000).toFixed(1)} s`);
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** A table of every function, then the last lines of each failed build's log; cut to GitHub's limit. */
export function summaryOf(state: CheckRunState): string {
  const rows = [
    ...state.functions.map(
      (fn) =>
        `| ${fn.name} | ${STATUS_WORD[fn.outcome]} | ${fn.build === 'reused' ? 'reused' : seconds(fn.durationMs)} | ${cell(
          withoutServerPaths(fn.reason ?? fn.endpoint ?? ''),
        )} |`,
    ),
    ...state.rejected.map((fn) => `| ${fn.name} | rejected | | ${cell(withoutServerPaths(fn.reason))} |`),
  ];
  const table = ['| function | status | build | details |', '| --- | --- | --- | --- |', ...rows].join('\n');
  const logs = state.functions
    .filter((fn) => fn.outcome === 'failed' && fn.logTail)
    .map((fn) => `### ${fn.name}: last lines of the build log\n\n\`\`\`text\n${redactedTail(fn.logTail!)}\n\`\`\``);
  // Redacted as a build log is: a function may print what it should not at start, and checks of public repositories are public.
  const runLogs = state.functions
    .filter((fn) => fn.outcome === 'failed' && fn.runLog)
    .map((fn) => `### ${fn.name}: last lines of its log on the gateway\n\n\`\`\`text\n${redactedTail(fn.runLog!)}\n\`\`\``);
  const summary = [table, ...logs, ...runLogs].join('\n\n');
  return summary.length <= MAX_CHECK_SUMMARY ? summary : `${summary.slice(0, MAX_CHECK_SUMMARY - 2)}\n…`;
}

/** What looks like a credential in a log line: tokens GitHub and registries hand out, and `key=value` secrets. */
const CREDENTIAL =
  /\b(gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,}|npm_[A-Za-z0-9]{20,})\b|((?:password|passwd|token|secret|api[_-]?key|authorization)\s*[=:]\s*)(?:(?:bearer|basic|token)\s+)?\S+|(\/\/[^/\s:@]+:)[^@\s/]+@/gi;

/** The end of a build log as a tenant may read it: no server paths, no credentials, no control characters, no fence breaks. */
export function redactedTail(log: string, lines = LOG_TAIL_LINES): string {
  return log
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .slice(-lines)
    .map((line) =>
      withoutServerPaths(line)
        .replace(CREDENTIAL, (_match, token: string | undefined, key: string | undefined, userinfo: string | undefined) =>
          token ? '[redacted]' : key ? `${key}[redacted]` : `${userinfo}[redacted]@`,
        )
        // eslint-disable-next-line no-control-regex
        .replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
        // eslint-disable-next-line no-control-regex
        .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
        .replace(/```/g, "'''")
        .slice(0, 300),
    )
    .join('\n');
}

export const checkRunWorkflow: Workflow<CheckRunInput, ReportCheckRun, CheckRunState> = { decide, evolve, initialState };
