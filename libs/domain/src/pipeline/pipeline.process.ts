import type { FaaslineEvent, FunctionSpec, PushReceived, RecordedEvent } from '../events.js';
import { statusDescription } from '../naming.js';

/** Where a push stands, folded from the events of its delivery (they share its correlation id). */
export type PushPipelineState = Readonly<{
  push: (PushReceived['data'] & Readonly<{ sequence: number }>) | null;
  functions: ReadonlyMap<string, Readonly<{ spec: FunctionSpec; outcome: FunctionOutcome }>>;
  /** Functions superseded by a later push of this very commit: that push reports, this one stays quiet. */
  supersededBySameCommit: number;
  rejected: number;
}>;

export type FunctionOutcome = 'building' | 'built' | 'deployed' | 'failed' | 'superseded';

export type PushContext = Readonly<{
  deliveryId: string;
  owner: string;
  repo: string;
  branch: string;
  sha: string;
  installationId: number | null;
  pushSequence: number;
  private: boolean;
  ownerId: number;
  repositoryId: number;
  cloneUrl: string;
}>;

export type StatusLink = Readonly<{ kind: 'endpoint'; name: string }> | Readonly<{ kind: 'log'; buildId: string }> | null;

export type PipelineCommand =
  | Readonly<{ type: 'Build'; push: PushContext; spec: FunctionSpec }>
  | Readonly<{ type: 'Deploy'; push: PushContext; spec: FunctionSpec; buildId: string; image: string }>
  | Readonly<{
      type: 'ReportStatus';
      owner: string;
      repo: string;
      sha: string;
      installationId: number | null;
      context: string;
      state: 'pending' | 'success' | 'failure';
      description: string;
      link: StatusLink;
    }>
  | Readonly<{
      type: 'CollectGarbage';
      owner: string;
      repo: string;
      keep: readonly string[];
      reason: 'not-in-stack' | 'repository-removed' | 'installation-deleted';
      /** The push that asked, or null when the repository or the App went away: a later push's functions stay. */
      pushSequence: number | null;
    }>;

export const STACK_CONTEXT = 'stack-deploy';

export const initialPushState = (): PushPipelineState => ({ push: null, functions: new Map(), rejected: 0, supersededBySameCommit: 0 });

const terminal = (outcome: FunctionOutcome) => outcome === 'deployed' || outcome === 'failed' || outcome === 'superseded';

export function evolvePush(state: PushPipelineState, event: RecordedEvent<FaaslineEvent>): PushPipelineState {
  const settle = (name: string, outcome: FunctionOutcome): PushPipelineState => {
    const current = state.functions.get(name);
    return current ? { ...state, functions: new Map(state.functions).set(name, { ...current, outcome }) } : state;
  };
  switch (event.type) {
    case 'PushReceived':
      return { ...state, push: { ...event.data, sequence: event.metadata.streamVersion } };
    case 'SourceFetched':
      return {
        ...state,
        functions: new Map(event.data.functions.map((spec) => [spec.name, { spec, outcome: 'building' as const }])),
        rejected: event.data.rejected.length,
      };
    case 'BuildSucceeded':
    case 'BuildReused':
      return settle(event.data.name, 'built');
    case 'BuildFailed':
    case 'DeployFailed':
      return settle(event.data.name, 'failed');
    case 'BuildSuperseded': {
      const settled = settle(event.data.name, 'superseded');
      return event.data.supersededBy === event.data.sha ? { ...settled, supersededBySameCommit: settled.supersededBySameCommit + 1 } : settled;
    }
    case 'FunctionDeployed':
      return settle(event.data.name, 'deployed');
    default:
      return state;
  }
}

/**
 * The pipeline's process manager: given an event and the state of its push before it, what to do next.
 * Every command becomes a durable, idempotent job; nothing here does I/O.
 */
export function decidePipeline(event: RecordedEvent<FaaslineEvent>, state: PushPipelineState): PipelineCommand[] {
  const push = state.push;
  const status = (context: string, statusState: 'pending' | 'success' | 'failure', description: string, link: StatusLink = null): PipelineCommand | null =>
    push && {
      type: 'ReportStatus',
      owner: push.owner,
      repo: push.repo,
      sha: push.sha,
      installationId: push.installationId,
      context,
      state: statusState,
      description: statusDescription(description),
      link,
    };
  const context: PushContext | null = push && {
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
  };
  const commands = (...list: (PipelineCommand | null)[]) => list.filter((command): command is PipelineCommand => command !== null);

  switch (event.type) {
    case 'SourceFetched': {
      const { functions, rejected } = event.data;
      if (!context) return [];
      return commands(
        status(STACK_CONTEXT, functions.length === 0 ? 'failure' : 'pending', functions.length === 0 ? `no function can be built: ${rejected.length} rejected` : `building ${functions.length} function(s)`),
        ...rejected.map((rejection) => status(rejection.name, 'failure', rejection.reason)),
        ...functions.map((spec): PipelineCommand => ({ type: 'Build', push: context, spec })),
      );
    }
    case 'SourceRejected':
      return commands(status(STACK_CONTEXT, 'failure', event.data.reason));
    case 'BuildStarted':
      return commands(status(event.data.name, 'pending', `building ${event.data.contextDigest.slice(7, 19)}`));
    case 'BuildSucceeded':
    case 'BuildReused': {
      const built = state.functions.get(event.data.name);
      if (!context || !built) return [];
      return [{ type: 'Deploy', push: context, spec: built.spec, buildId: event.data.buildId, image: event.data.image }];
    }
    case 'BuildFailed':
      return commands(status(event.data.name, 'failure', `build failed: ${event.data.reason}`, { kind: 'log', buildId: event.data.buildId }), ...completion(event, state, status));
    case 'DeployFailed':
      return commands(status(event.data.name, 'failure', `deploy failed: ${event.data.reason}`), ...completion(event, state, status));
    case 'BuildSuperseded':
      // The same commit pushed again: the later push reports on this commit's statuses.
      if (event.data.supersededBy === event.data.sha) return commands(...completion(event, state, status));
      return commands(status(event.data.name, 'failure', `not deployed: superseded by ${event.data.supersededBy.slice(0, 7)}`), ...completion(event, state, status));
    case 'FunctionDeployed':
      return commands(status(event.data.name, 'success', `deployed: ${event.data.endpoint}`, { kind: 'endpoint', name: event.data.name }), ...completion(event, state, status));
    case 'RepositoryRemoved':
      return [{ type: 'CollectGarbage', owner: event.data.owner, repo: event.data.repo, keep: [], reason: 'repository-removed', pushSequence: null }];
    case 'InstallationDeleted':
      return event.data.repositories.map((ref): PipelineCommand => ({ type: 'CollectGarbage', owner: ref.owner, repo: ref.repo, keep: [], reason: 'installation-deleted', pushSequence: null }));
    default:
      return [];
  }
}

/** The event that settles a push's last function decides the push: clean up and report success, or report why not. */
function completion(
  event: RecordedEvent<FaaslineEvent>,
  before: PushPipelineState,
  status: (context: string, state: 'pending' | 'success' | 'failure', description: string) => PipelineCommand | null,
): (PipelineCommand | null)[] {
  const after = evolvePush(before, event);
  const outcomes = [...after.functions.values()].map((fn) => fn.outcome);
  const wasOpen = [...before.functions.values()].some((fn) => !terminal(fn.outcome));
  if (!after.push || !wasOpen || !outcomes.every(terminal)) return [];
  const failed = outcomes.filter((outcome) => outcome === 'failed').length + after.rejected;
  const superseded = outcomes.filter((outcome) => outcome === 'superseded').length - after.supersededBySameCommit;
  if (failed === 0 && superseded === 0 && after.supersededBySameCommit > 0) return [];
  if (failed === 0 && superseded === 0) {
    return [
      { type: 'CollectGarbage', owner: after.push.owner, repo: after.push.repo, keep: [...after.functions.keys()], reason: 'not-in-stack', pushSequence: after.push.sequence },
      status(STACK_CONTEXT, 'success', 'stack is successfully deployed'),
    ];
  }
  const total = outcomes.length + after.rejected;
  return [status(STACK_CONTEXT, 'failure', failed > 0 ? `${failed} of ${total} function(s) failed` : 'not deployed: a newer push superseded this one')];
}

/**
 * Whose share of the machine a command's job uses: builds and deploys are the pushing owner's, so the step queue
 * takes owners in turn and holds each to its cap (MAX_BUILDS_PER_OWNER). Status reports and clean-ups are quick
 * and belong to nobody.
 */
export function fairShareGroup(command: PipelineCommand): string | null {
  switch (command.type) {
    case 'Build':
    case 'Deploy':
      return ownerShare(command.push.owner);
    default:
      return null;
  }
}

/** The queue group of an owner's work (its fetches, builds and deploys): GitHub logins are case-insensitive. */
export const ownerShare = (owner: string): string => `owner:${owner.toLowerCase()}`;
