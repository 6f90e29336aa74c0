import type { Command, Decider, Snapshots } from '../decider.js';
import type { PushReceived, RepositoryEvent, SecretsApplied, SecretsRejected, SourceFetched, SourceRejected } from '../events.js';
import { statusDescription } from '../naming.js';
import { isPreviewBranch, type PreviewPolicy } from '../preview/preview.rules.js';

/** What the server is configured to build; it travels with the command so the decision stays pure. */
export type PushPolicy = Readonly<{
  /** Lower-cased owners allowed to build, or null for everyone. */
  customers: readonly string[] | null;
  /** The branch that deploys, or null for the repository's default branch. */
  buildBranch: string | null;
  /**
   * Set when this server cannot contain a tenant's code (no working sandbox for its local builds or functions):
   * only trusted owners build — those named in CUSTOMERS, or `faasline push` from this machine.
   */
  trustedOwnersOnly?: boolean;
  /** PREVIEW_BRANCHES: other branches whose pushes deploy previews; absent or null, they are ignored. */
  previews?: PreviewPolicy;
}>;

/** A push as GitHub delivered it: what `PushReceived` records, before the branch is known to be the build branch. */
export type PushDelivery = Omit<PushReceived['data'], 'branch' | 'sha'> &
  Readonly<{
    after: string;
    defaultBranch: string;
    /** `repository.pushed_at` of the signed body: when GitHub took this push; null when the sender leaves it out. */
    pushedAt: string | null;
  }>;

/**
 * The re-run button of a check run (`check_run.rerequested`): run the push behind it again, as a new delivery
 * whose actor is whoever pressed it. Everything here comes from the signed body.
 */
export type RerunRequest = Omit<PushDelivery, 'ref' | 'after' | 'before' | 'pushedAt' | 'pusher'> &
  Readonly<{
    checkRunId: number;
    /** The App that created the check run, and the App this server runs as (null: it runs as none). */
    checkRunAppId: number;
    appId: number | null;
    /** The check suite's branch and the SHA its push started from; GitHub leaves the branch out for some suites. */
    branch: string | null;
    before: string | null;
    sha: string;
    sender: string;
  }>;

export type RepositoryCommand =
  | Command<'RecordPush', PushDelivery & { policy: PushPolicy }>
  | Command<'RecordRerun', RerunRequest & { policy: PushPolicy }>
  | Command<'RecordSourceFetched', SourceFetched['data']>
  | Command<'RecordSourceRejected', SourceRejected['data']>
  | Command<'RecordSecretsApplied', SecretsApplied['data']>
  | Command<'RecordSecretsRejected', SecretsRejected['data']>;

/** An accepted push: its place in the repository stream (the push sequence) and its commit. */
export type AcceptedPush = Readonly<{ sequence: number; sha: string }>;

export type RepositoryState = Readonly<{
  /** How many events the stream holds: the next event's place is one more. */
  version: number;
  /** The newest accepted push of each branch: an older push's build never replaces it. */
  newestByBranch: ReadonlyMap<string, AcceptedPush>;
}>;

export const initialState = (): RepositoryState => ({ version: 0, newestByBranch: new Map() });

export function evolve(state: RepositoryState, event: RepositoryEvent): RepositoryState {
  const version = state.version + 1;
  return event.type === 'PushReceived'
    ? { version, newestByBranch: new Map(state.newestByBranch).set(event.data.branch, { sequence: version, sha: event.data.sha }) }
    : { ...state, version };
}

/** The newest accepted push on `branch`, or none yet (sequence 0). */
export const newestPushOn = (state: RepositoryState, branch: string): AcceptedPush =>
  state.newestByBranch.get(branch) ?? { sequence: 0, sha: '' };

const ZERO_SHA = /^0+$/;
const BRANCH_PREFIX = 'refs/heads/';

/**
 * Whether a push builds. The decision reads only the delivery and the policy, never earlier events, so
 * ingress appends without loading the stream; the stream's order is the order pushes were accepted in.
 * Duplicate deliveries and replayed bodies are the store's to drop: `pushIdempotencyKey` is the append's key.
 */
export function decide(command: RepositoryCommand, state: RepositoryState): RepositoryEvent[] {
  switch (command.type) {
    case 'RecordPush': {
      const push = command.data;
      const reason = ignoreReason(push, push.policy);
      const branch = push.ref.slice(BRANCH_PREFIX.length);
      if (reason !== null) {
        return [
          {
            type: 'PushIgnored',
            data: { deliveryId: push.deliveryId, owner: push.owner, repo: push.repo, ref: push.ref, sha: push.after, reason },
          },
        ];
      }
      return [
        {
          type: 'PushReceived',
          data: {
            deliveryId: push.deliveryId,
            owner: push.owner,
            ownerId: push.ownerId,
            repo: push.repo,
            repositoryId: push.repositoryId,
            private: push.private,
            ref: push.ref,
            branch,
            ...(branch !== buildBranchOf(push) ? { preview: true } : {}),
            before: push.before,
            sha: push.after,
            cloneUrl: push.cloneUrl,
            installationId: push.installationId,
            pusher: push.pusher,
            receivedAt: push.receivedAt,
          },
        },
      ];
    }
    case 'RecordRerun':
      return decideRerun(command.data, state);
    case 'RecordSourceFetched':
      return [{ type: 'SourceFetched', data: command.data }];
    case 'RecordSourceRejected':
      return [{ type: 'SourceRejected', data: { ...command.data, reason: statusDescription(command.data.reason) } }];
    case 'RecordSecretsApplied':
      return [{ type: 'SecretsApplied', data: command.data }];
    case 'RecordSecretsRejected':
      return [{ type: 'SecretsRejected', data: { ...command.data, reason: statusDescription(command.data.reason) } }];
  }
}

/**
 * A re-run runs the newest push of its branch again, under the policy of today: only check runs this App created,
 * and never an older commit than the branch's newest (pressing re-run on an old check run must not roll the
 * branch back). Unlike a push, this reads the stream: which push is newest is the stream's to say.
 */
function decideRerun(rerun: RerunRequest & { policy: PushPolicy }, state: RepositoryState): RepositoryEvent[] {
  const ref = rerun.branch === null ? '' : `${BRANCH_PREFIX}${rerun.branch}`;
  const ignored = (reason: string): RepositoryEvent[] => [
    {
      type: 'PushIgnored',
      data: { deliveryId: rerun.deliveryId, owner: rerun.owner, repo: rerun.repo, ref, sha: rerun.sha, reason: statusDescription(reason) },
    },
  ];
  if (rerun.appId === null || rerun.checkRunAppId !== rerun.appId)
    return ignored(`re-run of check run ${rerun.checkRunId} ignored: it was created by GitHub App ${rerun.checkRunAppId}, not by this one`);
  if (rerun.branch === null) return ignored(`re-run of check run ${rerun.checkRunId} ignored: its check suite names no branch`);
  const newest = newestPushOn(state, rerun.branch);
  if (newest.sha !== rerun.sha)
    return ignored(
      newest.sequence === 0
        ? `re-run of ${rerun.sha.slice(0, 7)} ignored: no push of ${rerun.branch} was built here`
        : `re-run of ${rerun.sha.slice(0, 7)} ignored: ${newest.sha.slice(0, 7)} is the newest push on ${rerun.branch}`,
    );
  const { checkRunId: _id, checkRunAppId: _app, appId: _appId, branch: _branch, before, sha, sender, policy, ...repository } = rerun;
  return decide(
    {
      type: 'RecordPush',
      data: { ...repository, ref, before: before ?? '0'.repeat(40), after: sha, pusher: sender, pushedAt: null, policy },
    },
    state,
  );
}

/** A check run is re-run once, whatever delivery id the request arrives under: a replayed body records nothing. */
export const rerunIdempotencyKey = (rerun: Pick<RerunRequest, 'repositoryId' | 'checkRunId'>): string =>
  `rerun:${rerun.repositoryId}:${rerun.checkRunId}`;

/**
 * One push is recorded once, whatever delivery id it arrives under: the key is the repository id, the ref and
 * the after SHA, plus what tells two real pushes of one SHA apart — the ref's SHA before the push and when
 * GitHub took it, both inside the signed body. So a body sent again (a redelivery, or a captured push replayed
 * with a fresh `X-GitHub-Delivery` id, even after later pushes) records nothing and cannot roll the branch
 * back, while a force-push back to an earlier SHA (a revert: `before` is the commit it undoes, `pushed_at` is
 * new) is a new push and builds, so what runs follows the branch.
 */
export function pushIdempotencyKey(push: PushDelivery): string {
  return `push:${push.repositoryId}:${push.ref}:${push.after}:${push.before}:${push.pushedAt ?? ''}`;
}

function ignoreReason(push: PushDelivery & { policy: PushPolicy }, policy: PushPolicy): string | null {
  if (policy.trustedOwnersOnly && policy.customers === null && !fromLoopback(push.cloneUrl)) {
    return 'no sandbox on this server: only owners in CUSTOMERS and local faasline push build';
  }
  if (policy.customers !== null && !policy.customers.includes(push.owner.toLowerCase())) {
    return `owner ${push.owner} is not in CUSTOMERS`;
  }
  if (push.ref.startsWith('refs/tags/')) return `tag push ${push.ref.slice('refs/tags/'.length)}: only branch pushes build`;
  if (!push.ref.startsWith(BRANCH_PREFIX)) return `ref ${push.ref} is not a branch`;
  const buildBranch = buildBranchOf(push);
  const branch = push.ref.slice(BRANCH_PREFIX.length);
  // The pipeline removes a deleted branch's previews on this event (see the pipeline workflow).
  if (ZERO_SHA.test(push.after)) return `branch ${branch} was deleted`;
  if (isPreviewBranch(policy.previews ?? null, branch, buildBranch)) return null;
  // OpenFaaS Cloud's wording, kept for users who grep their commit statuses for it.
  if (branch !== buildBranch) return statusDescription(`skipping build for: ${branch} branch, the build branch is: ${buildBranch}`);
  return null;
}

const buildBranchOf = (push: PushDelivery & { policy: PushPolicy }) => push.policy.buildBranch ?? push.defaultBranch;

/** Whether a PushIgnored records a branch's deletion (GitHub sends `after` as forty zeros). */
export const isBranchDeletion = (ignored: Readonly<{ ref: string; sha: string }>) =>
  ignored.ref.startsWith(BRANCH_PREFIX) && ZERO_SHA.test(ignored.sha);

/**
 * `faasline push` serves the repository from faasline's own git server on loopback; only a holder of the webhook
 * secret can deliver a push naming it.
 */
function fromLoopback(cloneUrl: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(cloneUrl).hostname);
  } catch {
    return false;
  }
}

/** A repository's stream holds every push it ever had; its state is one entry per branch. */
export const repositorySnapshots: Snapshots<RepositoryState> = {
  name: 'repository',
  version: 1,
  toJson: (state) => ({ version: state.version, newestByBranch: [...state.newestByBranch] }),
  fromJson: (json) => {
    const { version, newestByBranch } = json as { version: number; newestByBranch: [string, AcceptedPush][] };
    return { version, newestByBranch: new Map(newestByBranch) };
  },
};

export const repositoryDecider: Decider<RepositoryCommand, RepositoryEvent, RepositoryState> = {
  decide,
  evolve,
  initialState,
  snapshot: repositorySnapshots,
};
