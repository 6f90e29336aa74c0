import { CommandRefused, type Command, type Decider, type Snapshots } from '../decider.js';
import { failureReason, statusDescription, withoutServerPaths } from '../naming.js';
import { secretHeldByAnother, type LiveFunction } from '../pipeline/deployment.js';
import { PersistentMap } from '../persistent-map.js';
import type {
  BuildFailed,
  BuildStarted,
  BuildSucceeded,
  DeployFailed,
  FunctionDeployed,
  FunctionEvent,
  FunctionRejected,
  FunctionRemoved,
  FunctionSpec,
  PushContext,
} from '../events.js';

type BuildRef = BuildStarted['data'];

/** Who pushes: the GitHub ids compared with the ids that hold the function name. */
type Claimant = Readonly<{ ownerId: number; repositoryId: number }>;

/** How many functions the deploying owner runs now (other than this one) and the most it may run (MAX_FUNCTIONS_PER_OWNER). */
export type OwnerQuota = Readonly<{ deployed: number; max: number }>;

/**
 * The gateway as a deploy found it, or null when none is configured (no OPENFAAS_URL): the secrets it holds of
 * those the function mounts, and the functions it runs (asked only when every secret is there).
 */
export type DeployTarget = Readonly<{ secrets: readonly string[]; live: readonly LiveFunction[] }> | null;

export type FunctionCommand =
  /** `goneImages`: earlier images the builder no longer holds (evicted from disk), so they cannot be reused. */
  | Command<'StartBuild', BuildRef & Claimant & { goneImages?: readonly string[] }>
  | Command<'CompleteBuild', BuildSucceeded['data']>
  | Command<'FailBuild', BuildFailed['data']>
  | Command<
      'Deploy',
      FunctionDeployed['data'] &
        Claimant & {
          contextDigest: string;
          /** The newest accepted push on the branch (see `newestPushOn`): an older push's build never deploys. */
          newestPushSequence: number;
          newestSha: string;
          ownerQuota?: OwnerQuota;
          /** Whether the gateway runs this name with the image of this deploy now (asked when the events say it should). */
          runningOnGateway?: boolean;
          /**
           * The gateway already took this very deploy (image and commit) in an earlier attempt whose process died before
           * recording it: what happened is recorded, even if a newer push arrived since (its own deploy follows).
           */
          tookEarlier?: boolean;
        }
    >
  /**
   * `rollback`: a deploy that never became ready goes back to the version recorded as running (`notReady`), deployed
   * again from `push` and `spec`, the push and stack entry it was built from; `failed` is the failed deploy's image and push.
   */
  | Command<
      'FailDeploy',
      DeployFailed['data'] & {
        rollback?: Readonly<{
          buildId: string;
          sha: string;
          image: string;
          push: PushContext;
          spec: FunctionSpec;
          failed: Readonly<{ image: string; pushSequence: number }>;
        }> | null;
      }
    >
  /** `pushSequence`: the push whose stack file no longer declares the function, or null when the repository or the App went away. */
  | Command<'Remove', FunctionRemoved['data'] & { pushSequence: number | null }>
  /** A function its push's stack file declares but that was refused at source. */
  | Command<'Reject', FunctionRejected['data'] & Claimant>
  /**
   * Its owner or an admin asks for an earlier build's image again. `push` and `spec` are what that build was made
   * from; `newestPushSequence` the newest push on its branch now; `goneImages` images the builder no longer holds.
   */
  | Command<
      'RollBack',
      {
        name: string;
        buildId: string;
        reason: string | null;
        newestPushSequence: number;
        goneImages: readonly string[];
        push: PushContext;
        spec: FunctionSpec;
      }
    >
  /** The deploy a recorded rollback asked for, once the gateway took it. */
  | Command<'DeployRollback', FunctionDeployed['data']>
  /** Its owner or an admin deletes it from the gateway. */
  | Command<'Delete', { name: string; note: string | null }>;

/** One build of the function, as far as it got: what a rollback may go back to. */
export type BuildRecord = Readonly<{
  buildId: string;
  owner: string;
  repo: string;
  sha: string;
  /** The image it built or reused, once it has one. */
  image: string | null;
  outcome: 'running' | 'built' | 'failed';
}>;

/** Which earlier build a rollback asks for: by id, or the newest successful build of a commit (a 7+ character prefix will do). */
export type RollbackTo = Readonly<{ buildId: string }> | Readonly<{ sha: string }>;

export type FunctionState = Readonly<{
  /** Images of successful builds by context digest: an equal digest reuses the image instead of building. */
  images: ReadonlyMap<string, Readonly<{ image: string; buildId: string }>>;
  deployed: Readonly<{
    owner: string;
    repo: string;
    ownerId: number | null;
    repositoryId: number | null;
    pushSequence: number;
    sha: string;
    image: string;
    buildId: string;
    /** See FunctionDeployed's `deployment`. */
    deployment?: string;
  }> | null;
  removed: boolean;
  /** Every build by id, in the order they started. */
  builds: ReadonlyMap<string, BuildRecord>;
  /** The build a recorded rollback deploys, until that deploy (or any other, or a removal) is recorded. */
  pendingRollback: string | null;
  /** The last rollback: pushes of its repository up to `pushSequence` (the newest when it was asked) never replace it. */
  heldThrough: Readonly<{ owner: string; repo: string; pushSequence: number; sha: string }> | null;
}>;

/** Whether the function runs now: deployed, and not removed since. */
export const isRunning = (state: FunctionState): boolean => state.deployed !== null && !state.removed;

/** Whether, as far as the events know, the function runs this image now: only then can a deploy leave it untouched. */
export const runsImage = (state: FunctionState, image: string): boolean => isRunning(state) && state.deployed!.image === image;

export const initialState = (): FunctionState => ({
  images: PersistentMap.of(),
  deployed: null,
  removed: false,
  builds: PersistentMap.of(),
  pendingRollback: null,
  heldThrough: null,
});

/** A state built elsewhere (a test's, an older snapshot's) may hold plain Maps: they are taken over once. */
const asPersistent = <K, V>(map: ReadonlyMap<K, V>): PersistentMap<K, V> => (map instanceof PersistentMap ? map : PersistentMap.of(map));

export function evolve(state: FunctionState, event: FunctionEvent): FunctionState {
  const build = (data: BuildStarted['data'], image: string | null, outcome: BuildRecord['outcome']): FunctionState['builds'] =>
    asPersistent(state.builds).set(data.buildId, { ...pick(data, ['buildId', 'owner', 'repo', 'sha']), image, outcome });
  switch (event.type) {
    case 'BuildStarted':
      return { ...state, builds: build(event.data, null, 'running') };
    case 'BuildSucceeded':
      return {
        ...state,
        images: asPersistent(state.images).set(event.data.contextDigest, { image: event.data.image, buildId: event.data.buildId }),
        builds: build(event.data, event.data.image, 'built'),
      };
    case 'BuildReused':
      return { ...state, builds: build(event.data, event.data.image, 'built') };
    case 'BuildFailed':
      return { ...state, builds: build(event.data, null, 'failed') };
    case 'FunctionDeployed':
      return {
        ...state,
        deployed: pick(event.data, ['owner', 'repo', 'ownerId', 'repositoryId', 'pushSequence', 'sha', 'image', 'buildId', 'deployment']),
        removed: false,
        pendingRollback: null,
      };
    case 'FunctionRemoved':
      return { ...state, removed: true, pendingRollback: null };
    case 'FunctionRolledBack': {
      const { owner, repo, holdsThroughPush, sha, buildId } = event.data;
      return { ...state, pendingRollback: buildId, heldThrough: { owner, repo, pushSequence: holdsThroughPush, sha } };
    }
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
      if (earlier && !goneImages.includes(earlier.image))
        return [{ type: 'BuildReused', data: { ...ref, image: earlier.image, reusedBuildId: earlier.buildId } }];
      return [{ type: 'BuildStarted', data: ref }];
    }
    case 'CompleteBuild':
      return [{ type: 'BuildSucceeded', data: command.data }];
    case 'FailBuild':
      return [{ type: 'BuildFailed', data: { ...command.data, reason: withoutServerPaths(command.data.reason) } }];
    case 'Deploy': {
      const {
        contextDigest,
        newestPushSequence,
        newestSha,
        ownerQuota,
        runningOnGateway = false,
        tookEarlier = false,
        ...deployed
      } = command.data;
      const refusal = heldByAnother(state, deployed);
      if (refusal)
        return [{ type: 'DeployFailed', data: { ...pick(deployed, ['name', 'owner', 'repo', 'sha', 'buildId']), reason: refusal } }];
      // The audit trail holds every deploy the gateway took: a newer push's own deploy replaces this one next.
      if (tookEarlier) return [{ type: 'FunctionDeployed', data: deployed }];
      // Push sequences are per repository stream, which is named by the repository: a renamed repository (same
      // id, checked above) starts a new stream, so its pushes are not compared with the old name's deploy.
      const last = state.deployed;
      const sameStream =
        last !== null &&
        last.repo.toLowerCase() === deployed.repo.toLowerCase() &&
        last.owner.toLowerCase() === deployed.owner.toLowerCase();
      // A rollback holds against every push of its repository received before it was asked.
      const held = state.heldThrough;
      const heldBack = held !== null && sameRepository(held, deployed) && held.pushSequence >= deployed.pushSequence;
      const newer =
        newestPushSequence > deployed.pushSequence
          ? newestSha
          : sameStream && last.pushSequence > deployed.pushSequence
            ? last.sha
            : heldBack
              ? held.sha
              : null;
      if (newer !== null) {
        const { name, owner, repo, sha, buildId, image } = deployed;
        return [{ type: 'BuildSuperseded', data: { buildId, name, owner, repo, sha, contextDigest, image, supersededBy: newer } }];
      }
      const overQuota = refuseOverQuota(deployed, ownerQuota, state);
      if (overQuota) return [overQuota];
      // Unchanged means untouched: the commit carries the running function, which is not deployed nor restarted.
      if (runningOnGateway && unchangedDeployment(state, deployed))
        return [{ type: 'FunctionDeployed', data: { ...deployed, alreadyRunning: true } }];
      // Deployed once the gateway took it (see `gatewayRefusal`); a refused one is recorded with FailDeploy.
      return [{ type: 'FunctionDeployed', data: deployed }];
    }
    case 'FailDeploy': {
      const { rollback, ...failure } = command.data;
      // The reason is the function's commit status too.
      const reason = statusDescription(failure.reason);
      // Only what still runs as far as the events know goes back: a removal or another deploy since has the last word.
      const current = state.deployed;
      const back = rollback && current !== null && !state.removed && current.buildId === rollback.buildId ? rollback : null;
      if (!back || !current) return [{ type: 'DeployFailed', data: { ...failure, reason } }];
      const { buildId, sha, image, push, spec, failed } = back;
      return [
        { type: 'DeployFailed', data: { ...failure, reason, rolledBackTo: { buildId, sha, image } } },
        {
          type: 'FunctionRolledBack',
          data: {
            name: failure.name,
            owner: current.owner,
            repo: current.repo,
            buildId,
            sha,
            image,
            fromBuildId: failure.buildId,
            fromSha: failure.sha,
            fromImage: failed.image,
            reason,
            // Held against the failed push only: a later push deploys as usual.
            holdsThroughPush: failed.pushSequence,
            push,
            spec,
          },
        },
      ];
    }
    case 'Reject': {
      const { ownerId, repositoryId, ...rejected } = command.data;
      // Another owner's refused function says nothing on the holder's stream: its own commit status told the pusher.
      if (heldByAnother(state, { ...rejected, ownerId, repositoryId })) return [];
      return [{ type: 'FunctionRejected', data: { ...rejected, reason: failureReason(rejected.reason) } }];
    }
    case 'Remove': {
      const { pushSequence, ...removed } = command.data;
      // A later push of the same repository deployed it again: the clean-up of an older push leaves it alone.
      const last = state.deployed;
      const laterPush =
        last !== null &&
        pushSequence !== null &&
        last.repo.toLowerCase() === removed.repo.toLowerCase() &&
        last.pushSequence > pushSequence;
      // So does a rollback asked after that push.
      const held = state.heldThrough;
      const heldBack = held !== null && pushSequence !== null && sameRepository(held, removed) && held.pushSequence >= pushSequence;
      return state.removed || laterPush || heldBack ? [] : [{ type: 'FunctionRemoved', data: removed }];
    }
    case 'RollBack': {
      const { name, buildId, reason, newestPushSequence, goneImages, push, spec } = command.data;
      // Asked again before its deploy was recorded: the first request stands.
      if (state.pendingRollback === buildId) return [];
      const { target, current } = rollbackTarget(state, name, { buildId }, goneImages);
      return [
        {
          type: 'FunctionRolledBack',
          data: {
            name,
            owner: current.owner,
            repo: current.repo,
            buildId,
            sha: target.sha,
            image: target.image,
            fromBuildId: current.buildId,
            fromSha: current.sha,
            fromImage: current.image,
            reason,
            holdsThroughPush: Math.max(newestPushSequence, current.pushSequence),
            push,
            spec,
          },
        },
      ];
    }
    case 'DeployRollback':
      // A deploy recorded since the rollback was asked (a newer push) has the last word; so has a removal.
      return state.pendingRollback === command.data.buildId ? [{ type: 'FunctionDeployed', data: command.data }] : [];
    case 'Delete': {
      const { name, note } = command.data;
      const last = state.deployed ?? [...state.builds.values()].at(-1);
      if (!last) throw new CommandRefused('not-found', `no function ${name}`);
      // Deleted already: asking again changes nothing.
      if (state.removed) return [];
      return [{ type: 'FunctionRemoved', data: { name, owner: last.owner, repo: last.repo, reason: 'deleted', note } }];
    }
  }
}

/**
 * The build a rollback of `name` goes back to, with what runs now; refused (CommandRefused) unless it is a finished,
 * successful build of the repository the function runs from, whose image is still there and not the one running.
 */
export function rollbackTarget(
  state: FunctionState,
  name: string,
  to: RollbackTo,
  goneImages: readonly string[] = [],
): Readonly<{ target: BuildRecord & { image: string }; current: NonNullable<FunctionState['deployed']> }> {
  const current = state.deployed;
  if (current === null && state.builds.size === 0) throw new CommandRefused('not-found', `no function ${name}`);
  if (current === null) throw new CommandRefused('conflict', `${name} has never been deployed: there is nothing to roll back`);
  if (state.removed) throw new CommandRefused('conflict', `${name} was removed: push its stack again to bring it back`);
  const target = 'buildId' in to ? state.builds.get(to.buildId) : newestBuildOf(state, current, to.sha);
  const which = 'buildId' in to ? `build ${to.buildId}` : `commit ${to.sha.slice(0, 7)}`;
  if (!target) throw new CommandRefused('not-found', `no build of ${name} at ${which}`);
  const build = `build ${target.buildId} of ${name} (${target.sha.slice(0, 7)})`;
  if (target.outcome === 'failed') throw new CommandRefused('conflict', `${build} failed: only a successful build can take over again`);
  if (target.outcome === 'running' || target.image === null) throw new CommandRefused('conflict', `${build} has not finished`);
  if (!sameRepository(target, current))
    throw new CommandRefused('conflict', `${build} was not pushed from ${current.owner}/${current.repo}, where ${name} is deployed from`);
  if (target.image === current.image) throw new CommandRefused('conflict', `${name} already runs the image of ${build}`);
  if (goneImages.includes(target.image))
    throw new CommandRefused('conflict', `the image of ${build} is gone from the builder: push that commit again to rebuild it`);
  return { target: { ...target, image: target.image }, current };
}

/** The newest build of a commit from the function's repository that succeeded, or else its newest build of any outcome. */
function newestBuildOf(state: FunctionState, holder: Readonly<{ owner: string; repo: string }>, sha: string): BuildRecord | undefined {
  const prefix = sha.toLowerCase();
  if (prefix.length < 7) return undefined;
  const ofCommit = [...state.builds.values()].filter((build) => build.sha.startsWith(prefix) && sameRepository(build, holder)).reverse();
  return ofCommit.find((build) => build.outcome === 'built') ?? ofCommit[0];
}

const sameRepository = (a: Readonly<{ owner: string; repo: string }>, b: Readonly<{ owner: string; repo: string }>) =>
  a.owner.toLowerCase() === b.owner.toLowerCase() && a.repo.toLowerCase() === b.repo.toLowerCase();

/**
 * Why the gateway cannot take a deploy the decider allowed, or null when it can: there must be one, holding every
 * secret the function mounts, and no secret may be one that a function of another GitHub owner already mounts.
 * Asked only once the deploy is decided, so a refused or superseded build never reaches the gateway at all.
 */
export function gatewayRefusal(
  gateway: DeployTarget,
  secrets: readonly string[],
  claim: Readonly<{ owner: string; ownerId: number }>,
): string | null {
  if (!gateway) return 'no OpenFaaS gateway to deploy to: set OPENFAAS_URL';
  if (secrets.length === 0) return null;
  const missing = secrets.filter((secret) => !gateway.secrets.includes(secret));
  if (missing.length > 0) {
    // The owner names secrets without its prefix: in secrets.yml, faasline seal and faasline secret set.
    const plain = missing[0]!.slice(claim.owner.length + 1);
    return `secret ${missing.join(', ')} is missing: seal it into secrets.yml (faasline seal ${plain}) or faasline secret set ${plain}`;
  }
  const held = secretHeldByAnother(secrets, claim, gateway.live);
  return held && `secret ${held.secret} is used by GitHub owner ${held.owner}: rename the secret in stack.yml`;
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

/**
 * Whether a deploy would give the gateway what it runs already: the same image with the same deployment (see
 * `deploymentSignature`) from the same repository, and no rollback waiting to take over.
 */
function unchangedDeployment(state: FunctionState, next: FunctionDeployed['data']): boolean {
  const last = state.deployed;
  return (
    last !== null &&
    runsImage(state, next.image) &&
    state.pendingRollback === null &&
    last.deployment !== undefined &&
    last.deployment === next.deployment &&
    sameRepository(last, next)
  );
}

/** A function the owner does not run yet counts against its quota; a new version of a running one never does. */
function refuseOverQuota(deployed: FunctionDeployed['data'], quota: OwnerQuota | undefined, state: FunctionState): DeployFailed | null {
  if (!quota || isRunning(state) || quota.deployed < quota.max) return null;
  const { name, owner, repo, sha, buildId } = deployed;
  const reason = `${owner} already runs ${quota.deployed} functions, the most one owner may (MAX_FUNCTIONS_PER_OWNER): remove one first`;
  return { type: 'DeployFailed', data: { name, owner, repo, sha, buildId, reason: statusDescription(reason) } };
}

type FunctionStateJson = Omit<FunctionState, 'images' | 'builds'> & {
  images: [string, Readonly<{ image: string; buildId: string }>][];
  /** In the order they started: a rollback by commit and a deletion read the newest last. */
  builds: BuildRecord[];
};

/**
 * A function's stream holds every build it ever had. Its state keeps them all (a rollback may name any build by
 * id, or the newest of a commit), so a snapshot grows with the builds: about 370 bytes a build with its image,
 * 3.7 MB for 10,000, read and parsed in about 50 ms. A process reads it once (see `readState`).
 */
export const functionSnapshots: Snapshots<FunctionState> = {
  name: 'function',
  version: 1,
  toJson: (state): FunctionStateJson => ({ ...state, images: [...state.images], builds: [...state.builds.values()] }),
  fromJson: (json) => {
    const { images, builds, ...rest } = json as FunctionStateJson;
    return { ...rest, images: PersistentMap.of(images), builds: PersistentMap.of(builds.map((build) => [build.buildId, build] as const)) };
  },
};

export const functionDecider: Decider<FunctionCommand, FunctionEvent, FunctionState> = {
  decide,
  evolve,
  initialState,
  snapshot: functionSnapshots,
};
