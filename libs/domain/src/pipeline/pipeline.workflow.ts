import type { Workflow } from '../decider.js';
import {
  functionEventTypes,
  isOneOf,
  repositoryEventTypes,
  type EventOf,
  type FunctionRejection,
  type FunctionRemoved,
  type FunctionSpec,
  type PushContext,
  type PushReceived,
  type RecordedEvent,
  type SecretRef,
} from '../events.js';
import { MAX_STATUS_DESCRIPTION, failureReason, statusDescription, withoutServerPaths } from '../naming.js';
import { ownedBy, type LiveFunction } from './deployment.js';
import { failedFunctions, nothingToBuild, type FunctionFailure, type OutcomeText } from './push-outcome.js';
import { expiredPreviews, isPreview } from '../preview/preview.rules.js';
import { isBranchDeletion } from '../repository/repository.decider.js';

/**
 * OpenFaaS Cloud's pipeline as one workflow: every accepted push is fetched, each function of its stack file is
 * built (or its image reused) and deployed, every step is reported on the commit, and a push that deployed its
 * whole stack removes the repository's functions the stack no longer declares. `decide` answers an event with
 * the commands to run next (`[]`: nothing to do); the pipeline steps run them and record what happened.
 */

/** The events the workflow reacts to: every step of a push is a repository or function event; a removal ends the functions. */
export const pipelineInputTypes = [...repositoryEventTypes, ...functionEventTypes, 'RepositoryRemoved', 'InstallationDeleted'] as const;

export type PipelineEvent = RecordedEvent<EventOf<typeof pipelineInputTypes>>;

/** What garbage collection found on the gateway for a repository: the workflow decides which of them go. */
export type GarbageListed = Readonly<{ type: 'GarbageListed'; data: Readonly<{ collect: CollectGarbage; live: readonly LiveFunction[] }> }>;

/**
 * The gateway's functions, listed by the preview sweep at `nowMs`: previews whose branch saw no push for PREVIEW_TTL
 * (`ttlMs`) go. `pushSequences` holds the push each listed preview was deployed from (its function stream), so a
 * push that redeploys the preview between the listing and the removal keeps it.
 */
export type PreviewsListed = Readonly<{
  type: 'PreviewsListed';
  data: Readonly<{ live: readonly LiveFunction[]; pushSequences: Readonly<Record<string, number>>; nowMs: number; ttlMs: number }>;
}>;

export type PipelineInput = PipelineEvent | GarbageListed | PreviewsListed;

export const isPipelineEvent = isOneOf(pipelineInputTypes);

export type { PushContext };

export type FunctionOutcome = 'building' | 'built' | 'deployed' | 'failed' | 'superseded';

/**
 * Where one push stands, folded from the events of its delivery (they share its correlation id). Plain data, so
 * the process manager can keep it between events.
 */
export type PushState = Readonly<{
  push: (PushReceived['data'] & Readonly<{ sequence: number }>) | null;
  /** In stack-file order; `reason` says why a failed one failed (`build failed: …`), absent in states kept before it was. */
  functions: readonly Readonly<{ spec: FunctionSpec; outcome: FunctionOutcome; reason?: string }>[];
  /** Functions superseded by a later push of this very commit: that push reports, this one stays quiet. */
  supersededBySameCommit: number;
  rejected: number;
  /** The functions refused at source, in stack-file order; absent in states kept before they were. */
  rejections?: readonly FunctionRejection[];
}>;

export type StatusLink = Readonly<{ kind: 'endpoint'; name: string }> | Readonly<{ kind: 'log'; buildId: string }> | null;

type RemovalReason = FunctionRemoved['data']['reason'];

/**
 * Which of a repository's functions a garbage collection looks at: production's (a push to the build branch never
 * touches previews), one branch's previews, or all of them (the repository or the App went away).
 */
export type GarbageScope = Readonly<{ kind: 'production' } | { kind: 'preview'; branch: string } | { kind: 'all' }>;

export type CollectGarbage = Readonly<{
  type: 'CollectGarbage';
  owner: string;
  repo: string;
  scope: GarbageScope;
  keep: readonly string[];
  reason: RemovalReason;
  /** The push that asked, or null when the repository or the App went away: a later push's functions stay. */
  pushSequence: number | null;
}>;

export type PipelineCommand =
  | Readonly<{ type: 'FetchSource'; push: PushReceived['data'] }>
  /** Open the push's sealed secrets (found by fingerprint) and set them on the gateway. */
  | Readonly<{ type: 'ApplySecrets'; push: PushContext; secrets: readonly SecretRef[] }>
  | Readonly<{ type: 'Build'; push: PushContext; spec: FunctionSpec }>
  /** `rollback`: the deploy a recorded FunctionRolledBack asked for (an earlier build, of an earlier push). */
  | Readonly<{ type: 'Deploy'; push: PushContext; spec: FunctionSpec; buildId: string; image: string; rollback?: true }>
  | Readonly<{
      type: 'ReportStatus';
      owner: string;
      repo: string;
      sha: string;
      installationId: number | null;
      context: string;
      state: 'pending' | 'success' | 'failure';
      description: string;
      /** The whole text when `description` is cut to 140 characters (the pushes read model shows it); else null. */
      detail?: string | null;
      link: StatusLink;
    }>
  | CollectGarbage
  | Readonly<{ type: 'RemoveFunction'; name: string; owner: string; repo: string; reason: RemovalReason; pushSequence: number | null }>
  /** Records a function refused at source on its own stream, so the read model lists it as failed with its reason. */
  | Readonly<{ type: 'RejectFunction'; push: PushContext; rejection: FunctionRejection }>;

export type PipelineCommandOf<T extends PipelineCommand['type']> = Extract<PipelineCommand, { type: T }>;

/** The commit status of the whole stack; each function reports under its own name. */
export const STACK_CONTEXT = 'stack-deploy';

export const initialState = (): PushState => ({ push: null, functions: [], rejected: 0, rejections: [], supersededBySameCommit: 0 });

/** Whether a deploy is of this push's own build (a rollback after its failed deploy is of an earlier push). */
const ofThisPush = (state: PushState, deployed: Readonly<{ deliveryId: string }>) =>
  state.push === null || state.push.deliveryId === deployed.deliveryId;

const terminal = (outcome: FunctionOutcome) => outcome === 'deployed' || outcome === 'failed' || outcome === 'superseded';

export function evolve(state: PushState, input: PipelineInput): PushState {
  const settle = (name: string, outcome: FunctionOutcome, reason?: string): PushState =>
    state.functions.some((fn) => fn.spec.name === name)
      ? {
          ...state,
          functions: state.functions.map((fn) =>
            fn.spec.name === name ? { ...fn, outcome, ...(reason === undefined ? {} : { reason }) } : fn,
          ),
        }
      : state;
  switch (input.type) {
    case 'PushReceived':
      return { ...state, push: { ...input.data, sequence: input.metadata.streamVersion } };
    case 'SourceFetched':
      return {
        ...state,
        functions: input.data.functions.map((spec) => ({ spec, outcome: 'building' as const })),
        rejected: input.data.rejected.length,
        rejections: input.data.rejected,
      };
    case 'BuildSucceeded':
    case 'BuildReused':
      return settle(input.data.name, 'built');
    case 'BuildFailed':
      return settle(input.data.name, 'failed', `build failed: ${withoutServerPaths(input.data.reason)}`);
    case 'DeployFailed':
      return settle(input.data.name, 'failed', `deploy failed: ${withoutServerPaths(input.data.reason)}`);
    case 'BuildSuperseded': {
      const settled = settle(input.data.name, 'superseded');
      return input.data.supersededBy === input.data.sha
        ? { ...settled, supersededBySameCommit: settled.supersededBySameCommit + 1 }
        : settled;
    }
    case 'FunctionDeployed':
      return ofThisPush(state, input.data) ? settle(input.data.name, 'deployed') : state;
    case 'SecretsRejected':
      return { ...state, functions: state.functions.map((fn) => ({ ...fn, outcome: 'failed' as const })) };
    default:
      return state;
  }
}

export function decide(input: PipelineInput, state: PushState): PipelineCommand[] {
  const push = state.push;
  const status = (
    context: string,
    statusState: 'pending' | 'success' | 'failure',
    description: string | OutcomeText,
    link: StatusLink = null,
  ): PipelineCommand | null =>
    push && {
      type: 'ReportStatus',
      owner: push.owner,
      repo: push.repo,
      sha: push.sha,
      installationId: push.installationId,
      context,
      state: statusState,
      ...statusText(description),
      link,
    };
  const commands = (...list: (PipelineCommand | null)[]) => list.filter((command): command is PipelineCommand => command !== null);
  const settled = (): (PipelineCommand | null)[] => completion(state, evolve(state, input), status);

  switch (input.type) {
    case 'PushReceived':
      return [{ type: 'FetchSource', push: input.data }];
    case 'PushIgnored':
      // A deleted branch takes its previews with it; production is never on a deleted branch's account.
      return isBranchDeletion(input.data)
        ? [
            {
              type: 'CollectGarbage',
              owner: input.data.owner,
              repo: input.data.repo,
              scope: { kind: 'preview', branch: input.data.ref.slice('refs/heads/'.length) },
              keep: [],
              reason: 'branch-deleted',
              pushSequence: null,
            },
          ]
        : [];
    case 'SourceFetched': {
      const { functions, rejected, secrets = [] } = input.data;
      if (!push) return [];
      const context = pushContext(push);
      // The commit's secrets are on the gateway before any of its functions builds, so every deploy finds them.
      const first =
        functions.length > 0 && secrets.length > 0
          ? [{ type: 'ApplySecrets', push: context, secrets } satisfies PipelineCommand]
          : functions.map((spec): PipelineCommand => ({ type: 'Build', push: context, spec }));
      return commands(
        functions.length === 0
          ? status(STACK_CONTEXT, 'failure', nothingToBuild(rejected.map(rejectionFailure)))
          : status(
              STACK_CONTEXT,
              'pending',
              secrets.length > 0
                ? `setting ${secrets.length} secret(s), then building ${functions.length} function(s)${previewOf(push)}`
                : `building ${functions.length} function(s)${previewOf(push)}`,
            ),
        ...rejected.map((rejection) => status(rejection.name, 'failure', rejection.reason)),
        ...rejected.map((rejection): PipelineCommand => ({ type: 'RejectFunction', push: context, rejection })),
        ...first,
      );
    }
    case 'SecretsApplied': {
      if (!push) return [];
      const context = pushContext(push);
      return commands(
        status(STACK_CONTEXT, 'pending', `building ${state.functions.length} function(s)${previewOf(push)}`),
        ...state.functions.map((fn): PipelineCommand => ({ type: 'Build', push: context, spec: fn.spec })),
      );
    }
    case 'SecretsRejected':
      // Nothing of the push builds: its functions would run without (or with stale) secrets.
      return commands(
        status(STACK_CONTEXT, 'failure', input.data.reason),
        ...state.functions.map((fn) => status(fn.spec.name, 'failure', 'not deployed: the secrets of this commit were refused')),
      );
    case 'SourceRejected':
      return commands(status(STACK_CONTEXT, 'failure', input.data.reason));
    case 'BuildStarted':
      return commands(status(input.data.name, 'pending', `building ${input.data.contextDigest.slice(7, 19)}`));
    case 'BuildSucceeded':
    case 'BuildReused': {
      // Built or reused: deployed next. Whether it may still replace what runs is the function decider's to say.
      const built = state.functions.find((fn) => fn.spec.name === input.data.name);
      if (!push || !built) return [];
      return [{ type: 'Deploy', push: pushContext(push), spec: built.spec, buildId: input.data.buildId, image: input.data.image }];
    }
    case 'BuildFailed':
      return commands(
        status(input.data.name, 'failure', `build failed: ${input.data.reason}`, { kind: 'log', buildId: input.data.buildId }),
        ...settled(),
      );
    case 'DeployFailed':
      return commands(status(input.data.name, 'failure', `deploy failed: ${input.data.reason}`), ...settled());
    case 'BuildSuperseded':
      // The same commit pushed again: the later push reports on this commit's statuses.
      if (input.data.supersededBy === input.data.sha) return commands(...settled());
      return commands(
        status(input.data.name, 'failure', `not deployed: superseded by ${input.data.supersededBy.slice(0, 7)}`),
        ...settled(),
      );
    case 'FunctionDeployed':
      // The earlier version a failed deploy went back to is deployed in that push's name, but it is not its deploy.
      if (!ofThisPush(state, input.data)) return [];
      return commands(
        status(input.data.name, 'success', `deployed: ${input.data.endpoint}`, { kind: 'endpoint', name: input.data.name }),
        ...settled(),
      );
    case 'FunctionRemoved': {
      // A removal the workflow asked for: nothing follows it. A deletion is recorded first, then carried out.
      const { name, owner, repo, reason } = input.data;
      return reason === 'deleted' ? [{ type: 'RemoveFunction', name, owner, repo, reason, pushSequence: null }] : [];
    }
    case 'FunctionRejected':
      // Recorded for the read model; its commit status went out with the source.
      return [];
    case 'FunctionRolledBack': {
      // Recorded first, then deployed exactly as that build was; whether it still may is the function decider's to say.
      const { push, spec, buildId, image } = input.data;
      return [{ type: 'Deploy', push, spec, buildId, image, rollback: true }];
    }
    case 'RepositoryRemoved':
      return [collectGarbage(input.data, 'repository-removed')];
    case 'InstallationDeleted':
      return input.data.repositories.map((ref) => collectGarbage(ref, 'installation-deleted'));
    case 'GarbageListed': {
      // Only functions faasline deployed for this owner and repository, and none the stack still declares.
      const { collect, live } = input.data;
      // Jobs queued before previews existed carry no scope: a push's collection was production's, the others all.
      const scope: GarbageScope = collect.scope ?? (collect.reason === 'not-in-stack' ? { kind: 'production' } : { kind: 'all' });
      const inScope = (fn: LiveFunction) =>
        scope.kind === 'all' || (scope.kind === 'production' ? !isPreview(fn.labels) : isPreview(fn.labels, scope.branch));
      return live
        .filter((fn) => ownedBy(fn.labels, collect.owner, collect.repo) && inScope(fn) && !collect.keep.includes(fn.name))
        .map((fn) => ({
          type: 'RemoveFunction',
          name: fn.name,
          owner: collect.owner,
          repo: collect.repo,
          reason: collect.reason,
          pushSequence: collect.pushSequence,
        }));
    }
    case 'PreviewsListed': {
      const { live, pushSequences, nowMs, ttlMs } = input.data;
      return expiredPreviews(live, nowMs, ttlMs).map((fn) => ({
        type: 'RemoveFunction',
        name: fn.name,
        owner: fn.labels?.['com.openfaas.cloud.git-owner'] ?? '',
        repo: fn.labels?.['com.openfaas.cloud.git-repo'] ?? '',
        reason: 'preview-expired',
        pushSequence: pushSequences[fn.name] ?? null,
      }));
    }
  }
}

/** A description as given, or an outcome already fitted: cut to 140 characters, the whole text kept when cut. */
function statusText(text: string | OutcomeText): Readonly<{ description: string; detail: string | null }> {
  if (typeof text !== 'string') return text;
  const description = statusDescription(text);
  return { description, detail: withoutServerPaths(text).length > MAX_STATUS_DESCRIPTION ? failureReason(text) : null };
}

const rejectionFailure = (rejection: FunctionRejection): FunctionFailure => ({ function: rejection.function, why: rejection.reason });
/** How a preview push's stack status says so. */
const previewOf = (push: Readonly<{ branch: string; preview?: true }>) => (push.preview ? ` (preview of ${push.branch})` : '');

const collectGarbage = (ref: Readonly<{ owner: string; repo: string }>, reason: RemovalReason): CollectGarbage => ({
  type: 'CollectGarbage',
  owner: ref.owner,
  repo: ref.repo,
  scope: { kind: 'all' },
  keep: [],
  reason,
  pushSequence: null,
});

const pushContext = (push: NonNullable<PushState['push']>): PushContext => ({
  deliveryId: push.deliveryId,
  owner: push.owner,
  repo: push.repo,
  branch: push.branch,
  sha: push.sha,
  installationId: push.installationId,
  pushSequence: push.sequence,
  private: push.private,
  ownerId: push.ownerId,
  repositoryId: push.repositoryId,
  cloneUrl: push.cloneUrl,
  ...(push.preview ? { preview: true } : {}),
});

/** The event that settles a push's last function decides the push: clean up and report success, or report why not. */
function completion(
  before: PushState,
  after: PushState,
  status: (context: string, state: 'pending' | 'success' | 'failure', description: string | OutcomeText) => PipelineCommand | null,
): (PipelineCommand | null)[] {
  const outcomes = after.functions.map((fn) => fn.outcome);
  const wasOpen = before.functions.some((fn) => !terminal(fn.outcome));
  if (!after.push || !wasOpen || !outcomes.every(terminal)) return [];
  const failed = outcomes.filter((outcome) => outcome === 'failed').length + after.rejected;
  const superseded = outcomes.filter((outcome) => outcome === 'superseded').length - after.supersededBySameCommit;
  if (failed === 0 && superseded === 0 && after.supersededBySameCommit > 0) return [];
  if (failed === 0 && superseded === 0) {
    return [
      {
        type: 'CollectGarbage',
        owner: after.push.owner,
        repo: after.push.repo,
        scope: after.push.preview ? { kind: 'preview', branch: after.push.branch } : { kind: 'production' },
        keep: after.functions.map((fn) => fn.spec.name),
        reason: 'not-in-stack',
        pushSequence: after.push.sequence,
      },
      status(
        STACK_CONTEXT,
        'success',
        after.push.preview ? `preview of ${after.push.branch} is successfully deployed` : 'stack is successfully deployed',
      ),
    ];
  }
  const total = outcomes.length + after.rejected;
  return [
    status(
      STACK_CONTEXT,
      'failure',
      failed > 0 ? failedFunctions(failures(after), total) : 'not deployed: a newer push superseded this one',
    ),
  ];
}

/**
 * Each function of the push that failed, in stack-file order (the rejected ones first: they failed first), with
 * its reason. A state kept before reasons were has none to give: the function is named alone.
 */
function failures(state: PushState): FunctionFailure[] {
  const rejected = (state.rejections ?? []).map(rejectionFailure);
  const unnamed = state.rejected - rejected.length;
  return [
    ...rejected,
    ...Array.from({ length: Math.max(0, unnamed) }, () => ({ function: '?', why: 'rejected at source' })),
    ...state.functions
      .filter((fn) => fn.outcome === 'failed')
      .map((fn) => ({ function: fn.spec.function, why: `${fn.spec.function}: ${fn.reason ?? 'failed'}` })),
  ];
}

/**
 * Whose share of the machine a command's job uses: fetches, builds and deploys are the pushing owner's, so the
 * step queue takes owners in turn and holds each to its cap (MAX_BUILDS_PER_OWNER). Status reports and clean-ups
 * are quick and belong to nobody.
 */
export function fairShareGroup(command: PipelineCommand): string | null {
  switch (command.type) {
    case 'FetchSource':
    case 'ApplySecrets':
    case 'Build':
    case 'Deploy':
      return ownerShare(command.push.owner);
    default:
      return null;
  }
}

/** The queue group of an owner's work (its fetches, builds and deploys): GitHub logins are case-insensitive. */
export const ownerShare = (owner: string): string => `owner:${owner.toLowerCase()}`;

export const pipelineWorkflow: Workflow<PipelineInput, PipelineCommand, PushState> = { decide, evolve, initialState };
