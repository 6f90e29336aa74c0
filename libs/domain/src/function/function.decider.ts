import type { Command, Decider } from '../decider.js';
import { statusDescription, withoutServerPaths } from '../naming.js';
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

/** Who pushes: the GitHub ids compared with the ids that hold the function name. */
type Claimant = Readonly<{ ownerId: number; repositoryId: number }>;

/** How many functions the deploying owner runs now (other than this one) and the most it may run (MAX_FUNCTIONS_PER_OWNER). */
export type OwnerQuota = Readonly<{ deployed: number; max: number }>;

export type FunctionCommand =
  /** `goneImages`: earlier images the builder no longer holds (evicted from disk), so they cannot be reused. */
  | Command<'StartBuild', BuildRef & Claimant & { goneImages?: readonly string[] }>
  | Command<'CompleteBuild', BuildSucceeded['data']>
  | Command<'FailBuild', BuildFailed['data']>
  | Command<'Deploy', FunctionDeployed['data'] & Claimant & { contextDigest: string; newestPushSequence: number; newestSha: string; ownerQuota?: OwnerQuota }>
  | Command<'FailDeploy', DeployFailed['data']>
  | Command<'Remove', FunctionRemoved['data']>;

export type FunctionState = Readonly<{
  /** Images of successful builds by context digest: an equal digest reuses the image instead of building. */
  images: ReadonlyMap<string, Readonly<{ image: string; buildId: string }>>;
  deployed: Readonly<{ owner: string; repo: string; ownerId: number | null; repositoryId: number | null; pushSequence: number; sha: string; image: string }> | null;
  removed: boolean;
}>;

export const initialState = (): FunctionState => ({ images: new Map(), deployed: null, removed: false });

export function evolve(state: FunctionState, event: FunctionEvent): FunctionState {
  switch (event.type) {
    case 'BuildSucceeded':
      return { ...state, images: new Map(state.images).set(event.data.contextDigest, { image: event.data.image, buildId: event.data.buildId }) };
    case 'FunctionDeployed':
      return { ...state, deployed: pick(event.data, ['owner', 'repo', 'ownerId', 'repositoryId', 'pushSequence', 'sha', 'image']), removed: false };
    case 'FunctionRemoved':
      return { ...state, removed: true };
    default:
      return state;
  }
}

/**
 * One function's builds and deploys. Unchanged code is never rebuilt; an older push never replaces a newer
 * one, however late its build finishes (GitHub delivers in any order and builds take different times). A
 * deployed name belongs to the GitHub owner and repository that deployed it, by id: a push from anyone else
 * is refused before it is built, and again before it is deployed (two first builds may race).
 */
export function decide(command: FunctionCommand, state: FunctionState): FunctionEvent[] {
  switch (command.type) {
    case 'StartBuild': {
      const { ownerId, repositoryId, goneImages = [], ...ref } = command.data;
      const refusal = heldByAnother(state, { ...ref, ownerId, repositoryId });
      if (refusal) return [{ type: 'DeployFailed', data: { ...pick(ref, ['name', 'owner', 'repo', 'sha', 'buildId']), reason: refusal } }];
      const earlier = state.images.get(ref.contextDigest);
      if (earlier && !goneImages.includes(earlier.image)) return [{ type: 'BuildReused', data: { ...ref, image: earlier.image, reusedBuildId: earlier.buildId } }];
      return [{ type: 'BuildStarted', data: ref }];
    }
    case 'CompleteBuild':
      return [{ type: 'BuildSucceeded', data: command.data }];
    case 'FailBuild':
      return [{ type: 'BuildFailed', data: { ...command.data, reason: withoutServerPaths(command.data.reason) } }];
    case 'Deploy': {
      const { contextDigest, newestPushSequence, newestSha, ownerQuota, ...deployed } = command.data;
      const refusal = heldByAnother(state, deployed);
      if (refusal) return [{ type: 'DeployFailed', data: { ...pick(deployed, ['name', 'owner', 'repo', 'sha', 'buildId']), reason: refusal } }];
      // Push sequences are per repository stream, which is named by the repository: a renamed repository (same
      // id, checked above) starts a new stream, so its pushes are not compared with the old name's deploy.
      const last = state.deployed;
      const sameStream = last !== null && last.repo.toLowerCase() === deployed.repo.toLowerCase() && last.owner.toLowerCase() === deployed.owner.toLowerCase();
      const newer = newestPushSequence > deployed.pushSequence ? newestSha : sameStream && last.pushSequence > deployed.pushSequence ? last.sha : null;
      if (newer !== null) {
        const { name, owner, repo, sha, buildId, image } = deployed;
        return [{ type: 'BuildSuperseded', data: { buildId, name, owner, repo, sha, contextDigest, image, supersededBy: newer } }];
      }
      const overQuota = refuseOverQuota(deployed, ownerQuota, state);
      if (overQuota) return [overQuota];
      return [{ type: 'FunctionDeployed', data: deployed }];
    }
    case 'FailDeploy':
      return [{ type: 'DeployFailed', data: { ...command.data, reason: withoutServerPaths(command.data.reason) } }];
    case 'Remove':
      return state.removed ? [] : [{ type: 'FunctionRemoved', data: command.data }];
  }
}

type Claim = Readonly<{ name: string; owner: string; repo: string; ownerId: number; repositoryId: number }>;

/**
 * Why `claim` may not build or deploy this name, or null when it may. The holder is compared by GitHub ids;
 * a deploy recorded before the ids were (v1) is compared by owner and repository name, as it was then. The
 * reason names the holding owner, and its repository only to the same owner (another owner's may be private).
 */
function heldByAnother(state: FunctionState, claim: Claim): string | null {
  const holder = state.deployed;
  if (!holder || state.removed) return null;
  // Tolerant of a deploy stored without the fields at all, as well as one upcast from v1 (null).
  const byIds = typeof holder.ownerId === 'number' && typeof holder.repositoryId === 'number';
  const sameOwner = byIds ? holder.ownerId === claim.ownerId : holder.owner.toLowerCase() === claim.owner.toLowerCase();
  const sameRepo = byIds ? holder.repositoryId === claim.repositoryId : holder.repo.toLowerCase() === claim.repo.toLowerCase();
  if (sameOwner && sameRepo) return null;
  const reason = sameOwner
    ? `function name ${claim.name} is already deployed from ${holder.owner}/${holder.repo}: rename the function in stack.yml`
    : `function name ${claim.name} belongs to GitHub owner ${holder.owner}: rename the function in stack.yml`;
  return statusDescription(reason);
}

function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, from[key]])) as Pick<T, K>;
}

/** A function the owner does not run yet counts against its quota; a new version of a running one never does. */
function refuseOverQuota(deployed: FunctionDeployed['data'], quota: OwnerQuota | undefined, state: FunctionState): DeployFailed | null {
  if (!quota || (state.deployed && !state.removed) || quota.deployed < quota.max) return null;
  const { name, owner, repo, sha, buildId } = deployed;
  const reason = `${owner} already runs ${quota.deployed} functions, the most one owner may (MAX_FUNCTIONS_PER_OWNER): remove one first`;
  return { type: 'DeployFailed', data: { name, owner, repo, sha, buildId, reason: statusDescription(reason) } };
}

export const functionDecider: Decider<FunctionCommand, FunctionEvent, FunctionState> = { decide, evolve, initialState };
