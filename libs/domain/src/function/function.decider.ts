import type { Command, Decider } from '../decider.js';
import type {
  BuildFailed,
  BuildReused,
  BuildStarted,
  BuildSucceeded,
  BuildSuperseded,
  DeployFailed,
  FunctionDeployed,
  FunctionRemoved,
} from '../events.js';

export type FunctionEvent =
  | BuildStarted
  | BuildSucceeded
  | BuildReused
  | BuildFailed
  | BuildSuperseded
  | FunctionDeployed
  | DeployFailed
  | FunctionRemoved;

/** What a function stream holds, at run time: readers pick a function's events out of the whole log with it. */
export const functionEventTypes: ReadonlySet<string> = new Set<FunctionEvent['type']>([
  'BuildStarted',
  'BuildSucceeded',
  'BuildReused',
  'BuildFailed',
  'BuildSuperseded',
  'FunctionDeployed',
  'DeployFailed',
  'FunctionRemoved',
]);

type BuildRef = BuildStarted['data'];

/** How many functions the deploying owner runs now (other than this one) and the most it may run (MAX_FUNCTIONS_PER_OWNER). */
export type OwnerQuota = Readonly<{ deployed: number; max: number }>;

export type FunctionCommand =
  /** `goneImages`: earlier images the builder no longer holds (evicted from disk), so they cannot be reused. */
  | Command<'StartBuild', BuildRef & { goneImages?: readonly string[] }>
  | Command<'CompleteBuild', BuildSucceeded['data']>
  | Command<'FailBuild', BuildFailed['data']>
  | Command<'Deploy', FunctionDeployed['data'] & { contextDigest: string; newestPushSequence: number; newestSha: string; ownerQuota?: OwnerQuota }>
  | Command<'FailDeploy', DeployFailed['data']>
  | Command<'Remove', FunctionRemoved['data']>;

export type FunctionState = Readonly<{
  /** Images of successful builds by context digest: an equal digest reuses the image instead of building. */
  images: ReadonlyMap<string, Readonly<{ image: string; buildId: string }>>;
  deployed: Readonly<{ repo: string; pushSequence: number; sha: string; image: string }> | null;
  removed: boolean;
}>;

export const initialState = (): FunctionState => ({ images: new Map(), deployed: null, removed: false });

export function evolve(state: FunctionState, event: FunctionEvent): FunctionState {
  switch (event.type) {
    case 'BuildSucceeded':
      return { ...state, images: new Map(state.images).set(event.data.contextDigest, { image: event.data.image, buildId: event.data.buildId }) };
    case 'FunctionDeployed':
      return { ...state, deployed: { repo: event.data.repo, pushSequence: event.data.pushSequence, sha: event.data.sha, image: event.data.image }, removed: false };
    case 'FunctionRemoved':
      return { ...state, removed: true };
    default:
      return state;
  }
}

/**
 * One function's builds and deploys. Unchanged code is never rebuilt; an older push never replaces a newer
 * one, however late its build finishes (GitHub delivers in any order and builds take different times).
 */
export function decide(command: FunctionCommand, state: FunctionState): FunctionEvent[] {
  switch (command.type) {
    case 'StartBuild': {
      const { goneImages = [], ...ref } = command.data;
      const earlier = state.images.get(ref.contextDigest);
      if (earlier && !goneImages.includes(earlier.image)) return [{ type: 'BuildReused', data: { ...ref, image: earlier.image, reusedBuildId: earlier.buildId } }];
      return [{ type: 'BuildStarted', data: ref }];
    }
    case 'CompleteBuild':
      return [{ type: 'BuildSucceeded', data: command.data }];
    case 'FailBuild':
      return [{ type: 'BuildFailed', data: command.data }];
    case 'Deploy': {
      const { contextDigest, newestPushSequence, newestSha, ownerQuota, ...deployed } = command.data;
      // `<owner>-<key>` is one OpenFaaS service: a second repository of the owner may not take it over.
      if (state.deployed && !state.removed && state.deployed.repo.toLowerCase() !== deployed.repo.toLowerCase()) {
        const { name, owner, repo, sha, buildId } = deployed;
        const reason = `function name ${name} is already deployed from ${owner}/${state.deployed.repo}: rename the function in stack.yml`;
        return [{ type: 'DeployFailed', data: { name, owner, repo, sha, buildId, reason: reason.slice(0, 140) } }];
      }
      // Push sequences are per repository, so they are only compared within the same one (checked above).
      const newer = newestPushSequence > deployed.pushSequence ? newestSha : state.deployed && state.deployed.pushSequence > deployed.pushSequence ? state.deployed.sha : null;
      if (newer !== null) {
        const { name, owner, repo, sha, buildId, image } = deployed;
        return [{ type: 'BuildSuperseded', data: { buildId, name, owner, repo, sha, contextDigest, image, supersededBy: newer } }];
      }
      const overQuota = refuseOverQuota(deployed, ownerQuota, state);
      if (overQuota) return [overQuota];
      return [{ type: 'FunctionDeployed', data: deployed }];
    }
    case 'FailDeploy':
      return [{ type: 'DeployFailed', data: command.data }];
    case 'Remove':
      return state.removed ? [] : [{ type: 'FunctionRemoved', data: command.data }];
  }
}

/** A function the owner does not run yet counts against its quota; a new version of a running one never does. */
function refuseOverQuota(deployed: FunctionDeployed['data'], quota: OwnerQuota | undefined, state: FunctionState): DeployFailed | null {
  if (!quota || (state.deployed && !state.removed) || quota.deployed < quota.max) return null;
  const { name, owner, repo, sha, buildId } = deployed;
  const reason = `${owner} already runs ${quota.deployed} functions, the most one owner may (MAX_FUNCTIONS_PER_OWNER): remove one first`;
  return { type: 'DeployFailed', data: { name, owner, repo, sha, buildId, reason: reason.slice(0, 140) } };
}

export const functionDecider: Decider<FunctionCommand, FunctionEvent, FunctionState> = { decide, evolve, initialState };
