import type { Command, Decider } from '../decider.js';
import type { PushIgnored, PushReceived, SourceFetched, SourceRejected } from '../events.js';
import { statusDescription } from '../naming.js';

export type RepositoryEvent = PushReceived | PushIgnored | SourceFetched | SourceRejected;

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
}>;

/** A push as GitHub delivered it: what `PushReceived` records, before the branch is known to be the build branch. */
export type PushDelivery = Omit<PushReceived['data'], 'branch' | 'sha'> &
  Readonly<{
    after: string;
    defaultBranch: string;
    /** `repository.pushed_at` of the signed body: when GitHub took this push; null when the sender leaves it out. */
    pushedAt: string | null;
  }>;

export type RepositoryCommand =
  | Command<'RecordPush', PushDelivery & { policy: PushPolicy }>
  | Command<'RecordSourceFetched', SourceFetched['data']>
  | Command<'RecordSourceRejected', SourceRejected['data']>;

export type RepositoryState = Readonly<{ lastAccepted: Readonly<{ sha: string; branch: string; deliveryId: string }> | null }>;

export const initialState = (): RepositoryState => ({ lastAccepted: null });

export function evolve(state: RepositoryState, event: RepositoryEvent): RepositoryState {
  return event.type === 'PushReceived'
    ? { lastAccepted: { sha: event.data.sha, branch: event.data.branch, deliveryId: event.data.deliveryId } }
    : state;
}

const ZERO_SHA = /^0+$/;
const BRANCH_PREFIX = 'refs/heads/';

/**
 * Whether a push builds. The decision reads only the delivery and the policy, never earlier events, so
 * ingress appends without loading the stream; the stream's order is the order pushes were accepted in.
 * Duplicate deliveries and replayed bodies are the store's to drop: `pushIdempotencyKey` is the append's key.
 */
export function decide(command: RepositoryCommand, _state: RepositoryState): RepositoryEvent[] {
  switch (command.type) {
    case 'RecordPush': {
      const push = command.data;
      const reason = ignoreReason(push, push.policy);
      if (reason !== null) {
        return [{ type: 'PushIgnored', data: { deliveryId: push.deliveryId, owner: push.owner, repo: push.repo, ref: push.ref, sha: push.after, reason } }];
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
            branch: push.ref.slice(BRANCH_PREFIX.length),
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
    case 'RecordSourceFetched':
      return [{ type: 'SourceFetched', data: command.data }];
    case 'RecordSourceRejected':
      return [{ type: 'SourceRejected', data: { ...command.data, reason: statusDescription(command.data.reason) } }];
  }
}

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

function ignoreReason(push: PushDelivery, policy: PushPolicy): string | null {
  if (policy.trustedOwnersOnly && policy.customers === null && !fromLoopback(push.cloneUrl)) {
    return 'no sandbox on this server: only owners in CUSTOMERS and local faasline push build';
  }
  if (policy.customers !== null && !policy.customers.includes(push.owner.toLowerCase())) {
    return `owner ${push.owner} is not in CUSTOMERS`;
  }
  if (push.ref.startsWith('refs/tags/')) return `tag push ${push.ref.slice('refs/tags/'.length)}: only branch pushes build`;
  if (!push.ref.startsWith(BRANCH_PREFIX)) return `ref ${push.ref} is not a branch`;
  if (ZERO_SHA.test(push.after)) return `branch ${push.ref.slice(BRANCH_PREFIX.length)} was deleted`;
  const buildBranch = policy.buildBranch ?? push.defaultBranch;
  const branch = push.ref.slice(BRANCH_PREFIX.length);
  // OpenFaaS Cloud's wording, kept for users who grep their commit statuses for it.
  if (branch !== buildBranch) return statusDescription(`skipping build for: ${branch} branch, the build branch is: ${buildBranch}`);
  return null;
}

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

export const repositoryDecider: Decider<RepositoryCommand, RepositoryEvent, RepositoryState> = { decide, evolve, initialState };
