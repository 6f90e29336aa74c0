/**
 * The event catalogue: the storage contract of faasline. Every push, build, deploy and removal is one of
 * these. Field names are part of the public audit trail, so they change only through an upcaster.
 */

/** An event as a decider produces it: no identity or position yet. */
export type Event<Type extends string = string, Data = unknown> = Readonly<{
  type: Type;
  data: Data extends object ? Readonly<Data> : Data;
}>;

/**
 * Who caused an event: `github:<login>`, `admin:<token name>`, `owner:<owner>:<owner token id>` (an owner's API
 * token) or `system:<component>`.
 */
export type Actor = `github:${string}` | `admin:${string}` | `owner:${string}` | `system:${string}`;

/** What the store adds when an event is appended; read back with every event. */
export type EventEnvelope = Readonly<{
  eventId: string;
  streamId: string;
  /** 1-based position of the event inside its stream. */
  streamVersion: number;
  /** 1-based position across all streams; commit order. */
  globalPosition: number;
  occurredAt: string;
  /** The webhook delivery (or admin request) that started the chain. */
  correlationId: string;
  /** The event id or command id that directly caused this event. */
  causationId: string;
  actor: Actor;
  schemaVersion: number;
}>;

export type RecordedEvent<E extends Event = FaaslineEvent> = E & Readonly<{ metadata: EventEnvelope }>;

export type RepositoryRef = Readonly<{ owner: string; repo: string; repositoryId: number; private: boolean }>;

export type InstallationCreated = Event<
  'InstallationCreated',
  {
    installationId: number;
    account: string;
    accountId: number;
    repositories: readonly RepositoryRef[];
  }
>;
export type InstallationDeleted = Event<
  'InstallationDeleted',
  {
    installationId: number;
    account: string;
    accountId: number;
    repositories: readonly RepositoryRef[];
  }
>;
export type RepositoryAdded = Event<'RepositoryAdded', { installationId: number } & RepositoryRef>;
export type RepositoryRemoved = Event<'RepositoryRemoved', { installationId: number } & RepositoryRef>;

export type PushReceived = Event<
  'PushReceived',
  {
    deliveryId: string;
    owner: string;
    ownerId: number;
    repo: string;
    repositoryId: number;
    private: boolean;
    ref: string;
    branch: string;
    /** Set on a push to another branch than the build branch (PREVIEW_BRANCHES): its functions deploy as previews. */
    preview?: true;
    before: string;
    sha: string;
    cloneUrl: string;
    installationId: number | null;
    pusher: string;
    receivedAt: string;
  }
>;
export type PushIgnored = Event<
  'PushIgnored',
  {
    deliveryId: string;
    owner: string;
    repo: string;
    ref: string;
    sha: string;
    reason: string;
  }
>;

export type ResourceQuantities = Readonly<{ memory?: string; cpu?: string }>;

/**
 * A function of a stack file, resolved for one commit: everything the build and the deploy need. Secrets are
 * the deployed names (`<owner>-<name>`), never values.
 */
export type FunctionSpec = Readonly<{
  /** The key under `functions:` in the stack file. */
  function: string;
  /** `<lowercase owner>-<function>`: the OpenFaaS service name. */
  name: string;
  lang: string;
  handler: string;
  image: string;
  fprocess: string | null;
  /** sha256 of the build context and build arguments; equal digests build equal images. */
  contextDigest: string;
  contextBytes: number;
  buildArgs: Readonly<Record<string, string>>;
  /** Inline `environment` overridden by each `environment_file` in order. */
  environment: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  secrets: readonly string[];
  limits: ResourceQuantities;
  requests: ResourceQuantities;
  readOnlyRootFilesystem: boolean;
  constraints: readonly string[];
}>;

/** The push a function is built and deployed from, as every pipeline command carries it. */
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
  /** A branch preview (PREVIEW_BRANCHES): deployed beside production, labelled with its branch. */
  preview?: true;
}>;

/** A function of the stack file that cannot be built; the reason is shown on its commit status. */
export type FunctionRejection = Readonly<{ function: string; name: string; reason: string }>;

/**
 * A secret of a push's secrets.yml or of the secrets API, as events show it: its name in the stack file, the
 * deployed (owner-prefixed) name, and a fingerprint of the sealed value (never the value, nor a hash of it).
 */
export type SecretRef = Readonly<{ name: string; secret: string; fingerprint: string }>;

export type SourceFetched = Event<
  'SourceFetched',
  {
    deliveryId: string;
    owner: string;
    repo: string;
    branch: string;
    sha: string;
    /** `stack.yaml` or `stack.yml`. */
    stackFile: string;
    functions: readonly FunctionSpec[];
    rejected: readonly FunctionRejection[];
    /** The line of each function's key in the stack file (by stack key), where it was found; absent before checks. */
    lines?: Readonly<Record<string, number>>;
    /** The sealed secrets of the commit's secrets.yml, set on the gateway before anything builds; absent: none. */
    secrets?: readonly SecretRef[];
  }
>;
/** A push's secrets.yml opened and its secrets created or updated on the gateway: its functions build next. */
export type SecretsApplied = Event<
  'SecretsApplied',
  { deliveryId: string; owner: string; repo: string; sha: string; secrets: readonly SecretRef[] }
>;
/** A push's secrets.yml could not be carried out (a value that does not open, a name taken): nothing deploys. */
export type SecretsRejected = Event<'SecretsRejected', { deliveryId: string; owner: string; repo: string; sha: string; reason: string }>;
export type SourceRejected = Event<
  'SourceRejected',
  {
    deliveryId: string;
    owner: string;
    repo: string;
    branch: string;
    sha: string;
    /** At most 140 characters: it is the commit status description. */
    reason: string;
  }
>;

type BuildRef = {
  buildId: string;
  name: string;
  owner: string;
  repo: string;
  sha: string;
  contextDigest: string;
  /** The stack key and branch it is built from (absent in builds recorded before previews): a preview's name is not `<owner>-<key>`. */
  function?: string;
  branch?: string;
  /** BUILD_PLATFORMS the image is built for (`linux/amd64`, …); absent: the builder's own platform. */
  platforms?: readonly string[];
};
/** A build result for a commit older than the newest accepted push on its branch: recorded, never deployed. */
export type BuildSuperseded = Event<'BuildSuperseded', BuildRef & { image: string; supersededBy: string }>;
export type BuildStarted = Event<'BuildStarted', BuildRef>;
/** v2 added `builder` and `imageDigest`; v1 events read as null for both (see upcasters.ts). */
export type BuildSucceeded = Event<
  'BuildSucceeded',
  BuildRef & {
    image: string;
    /** The registry's manifest digest of the pushed image, when the builder reports one. */
    imageDigest: string | null;
    builder: 'buildkit' | 'local' | null;
    durationMs: number;
    logRef: string;
    logTail: string;
  }
>;
export type BuildReused = Event<'BuildReused', BuildRef & { image: string; reusedBuildId: string }>;
export type BuildFailed = Event<
  'BuildFailed',
  BuildRef & {
    reason: string;
    durationMs: number;
    logRef: string;
    logTail: string;
  }
>;

export type FunctionDeployed = Event<
  'FunctionDeployed',
  {
    name: string;
    owner: string;
    repo: string;
    function: string;
    branch: string;
    sha: string;
    image: string;
    endpoint: string;
    deliveryId: string;
    buildId: string;
    /** The push's place in its repository stream: a deploy never replaces one from a later push. */
    pushSequence: number;
    /**
     * The GitHub ids of the owner and repository that now hold the name: only they may deploy it again (names can
     * collide: `victim` + `x-api` and `victim-x` + `api` are both `victim-x-api`). Null when written before v2.
     */
    ownerId: number | null;
    repositoryId: number | null;
    /**
     * A digest of what the gateway was given, but for the labels that name the commit (see `deploymentSignature`);
     * absent when the function mounts secrets, or was deployed before faasline kept it: then the next push deploys.
     */
    deployment?: string;
    /**
     * The gateway already ran this image with this deployment, so it was not asked again and the function was not
     * restarted: the commit carries the function unchanged.
     */
    alreadyRunning?: true;
  }
>;
export type DeployFailed = Event<
  'DeployFailed',
  {
    name: string;
    owner: string;
    repo: string;
    sha: string;
    buildId: string;
    reason: string;
    /** A deploy that never became ready: the function's last log lines as the gateway gave them. Absent otherwise. */
    logs?: readonly string[];
    /** The version the gateway went back to (a FunctionRolledBack follows); absent when nothing was rolled back. */
    rolledBackTo?: Readonly<{ buildId: string; sha: string; image: string }>;
  }
>;
/**
 * A function of a pushed stack file that was refused at source (unknown language, invalid name, handler missing, …):
 * recorded on the function's own stream so its row and builds say why, in the order of its other events.
 */
export type FunctionRejected = Event<
  'FunctionRejected',
  {
    /** The read-model name: the service name, or for a key that cannot be one, see `listedFunctionName`. */
    name: string;
    owner: string;
    repo: string;
    function: string;
    branch: string;
    sha: string;
    deliveryId: string;
    /** The whole reason, without server paths; commit statuses show it cut to 140 characters. */
    reason: string;
  }
>;
export type FunctionRemoved = Event<
  'FunctionRemoved',
  {
    name: string;
    owner: string;
    repo: string;
    /** `deleted`: its owner or an admin deleted it (the event's actor says who); a later push brings it back. */
    reason: 'not-in-stack' | 'repository-removed' | 'installation-deleted' | 'deleted' | 'branch-deleted' | 'preview-expired';
    /** The words of whoever deleted it, when they gave any. */
    note?: string | null;
  }
>;
/**
 * An earlier build's image takes over again (its owner or an admin asked: the actor). Carries the push and the stack
 * entry that build was made from, so the deploy that follows is exactly that build's deploy.
 */
export type FunctionRolledBack = Event<
  'FunctionRolledBack',
  {
    name: string;
    owner: string;
    repo: string;
    buildId: string;
    sha: string;
    image: string;
    /** What ran when the rollback was asked. */
    fromBuildId: string;
    fromSha: string;
    fromImage: string;
    reason: string | null;
    /** The newest push on the branch when asked: it and every push before it never replace the rollback. */
    holdsThroughPush: number;
    push: PushContext;
    spec: FunctionSpec;
  }
>;

export type CommitStatusReported = Event<
  'CommitStatusReported',
  {
    owner: string;
    repo: string;
    sha: string;
    context: string;
    state: 'pending' | 'success' | 'failure' | 'error';
    description: string;
    /** The whole text when `description` had to be cut to GitHub's 140 characters; null otherwise and before v2. */
    detail: string | null;
    targetUrl: string | null;
    delivered: boolean;
  }
>;

/** The conclusions faasline gives a check run; GitHub's list has more (neutral, timed_out, action_required, ...). */
export type CheckRunConclusion = 'success' | 'failure' | 'cancelled' | 'neutral';

/**
 * A check run (GitHub Checks, App only) created or updated for one push: one per delivery, `external_id` is the
 * delivery id. The summary holds the redacted build log tail of a failed build, never a secret or a server path.
 */
export type CheckRunReported = Event<
  'CheckRunReported',
  {
    owner: string;
    repo: string;
    sha: string;
    deliveryId: string;
    /** GitHub's id of the check run, or null when it could not be created. */
    checkRunId: number | null;
    name: string;
    status: 'in_progress' | 'completed';
    conclusion: CheckRunConclusion | null;
    title: string;
    summary: string;
    annotations: number;
    detailsUrl: string | null;
    delivered: boolean;
  }
>;
/** An owner API token was issued (its sha256 is kept apart, never in an event). */
export type OwnerTokenIssued = Event<'OwnerTokenIssued', { owner: string; tokenId: string }>;
export type OwnerTokenRevoked = Event<'OwnerTokenRevoked', { owner: string; tokenId: string }>;
/** One of an owner's secrets created or changed on the gateway, from a push's secrets.yml or the secrets API. */
export type SecretSet = Event<
  'SecretSet',
  SecretRef & { owner: string; source: 'push' | 'api'; deliveryId: string | null; updatedAt: string }
>;
export type SecretDeleted = Event<'SecretDeleted', { owner: string; name: string; secret: string }>;

export type FaaslineEvent =
  | InstallationCreated
  | InstallationDeleted
  | RepositoryAdded
  | RepositoryRemoved
  | PushReceived
  | PushIgnored
  | SourceFetched
  | SourceRejected
  | BuildStarted
  | BuildSucceeded
  | BuildReused
  | BuildFailed
  | BuildSuperseded
  | FunctionDeployed
  | DeployFailed
  | FunctionRemoved
  | FunctionRejected
  | FunctionRolledBack
  | CommitStatusReported
  | CheckRunReported
  | OwnerTokenIssued
  | OwnerTokenRevoked
  | SecretsApplied
  | SecretsRejected
  | SecretSet
  | SecretDeleted;

export type EventType = FaaslineEvent['type'];

/**
 * The event sets, one per stream kind: each list says at run time what its union says at compile time, and the
 * union is derived from the list so the two cannot drift apart.
 */
export const installationEventTypes = ['InstallationCreated', 'InstallationDeleted', 'RepositoryAdded', 'RepositoryRemoved'] as const;
export const repositoryEventTypes = [
  'PushReceived',
  'PushIgnored',
  'SourceFetched',
  'SourceRejected',
  'SecretsApplied',
  'SecretsRejected',
] as const;
export const functionEventTypes = [
  'BuildStarted',
  'BuildSucceeded',
  'BuildReused',
  'BuildFailed',
  'BuildSuperseded',
  'FunctionDeployed',
  'DeployFailed',
  'FunctionRemoved',
  'FunctionRejected',
  'FunctionRolledBack',
] as const;
export const commitEventTypes = ['CommitStatusReported', 'CheckRunReported'] as const;
/** One stream per owner: its API tokens and the secrets it manages. */
export const ownerEventTypes = ['OwnerTokenIssued', 'OwnerTokenRevoked', 'SecretSet', 'SecretDeleted'] as const;

/** The events of a set, as a union: `EventOf<typeof functionEventTypes>`. */
export type EventOf<Types extends readonly EventType[]> = Extract<FaaslineEvent, { type: Types[number] }>;

export type InstallationEvent = EventOf<typeof installationEventTypes>;
export type RepositoryEvent = EventOf<typeof repositoryEventTypes>;
export type FunctionEvent = EventOf<typeof functionEventTypes>;
export type CommitEvent = EventOf<typeof commitEventTypes>;
export type OwnerEvent = EventOf<typeof ownerEventTypes>;

/** A type guard for a set: `isOneOf(functionEventTypes)` tells a function event from any other. */
export const isOneOf =
  <Types extends readonly EventType[]>(types: Types) =>
  <E extends Event>(event: E): event is E & EventOf<Types> =>
    (types as readonly string[]).includes(event.type);

/** Readers pick a function's events out of the whole log with it. */
export const isFunctionEvent = isOneOf(functionEventTypes);

/** The types the stream sets cover: `currentSchemaVersions` is keyed by them, so a type left out of every set fails to compile. */
type SortedEventType = (
  typeof installationEventTypes | typeof repositoryEventTypes | typeof functionEventTypes | typeof commitEventTypes | typeof ownerEventTypes
)[number];

/** The schemaVersion each event type is written with today; older stored versions are upcast on read. */
export const currentSchemaVersions: Readonly<Record<SortedEventType, number>> = {
  InstallationCreated: 1,
  InstallationDeleted: 1,
  RepositoryAdded: 1,
  RepositoryRemoved: 1,
  PushReceived: 1,
  PushIgnored: 1,
  SourceFetched: 1,
  SourceRejected: 1,
  BuildStarted: 1,
  BuildSucceeded: 2,
  BuildReused: 1,
  BuildFailed: 1,
  BuildSuperseded: 1,
  FunctionDeployed: 2,
  DeployFailed: 1,
  FunctionRemoved: 1,
  FunctionRejected: 1,
  CheckRunReported: 1,
  FunctionRolledBack: 1,
  CommitStatusReported: 2,
  OwnerTokenIssued: 1,
  OwnerTokenRevoked: 1,
  SecretsApplied: 1,
  SecretsRejected: 1,
  SecretSet: 1,
  SecretDeleted: 1,
};

export const eventTypes = Object.keys(currentSchemaVersions) as readonly EventType[];

export const isEventType = (type: string): type is EventType => Object.hasOwn(currentSchemaVersions, type);
