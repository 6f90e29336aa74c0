/**
 * The event catalogue: the storage contract of faasline. Every push, build, deploy and removal is one of
 * these. Field names are part of the public audit trail, so they change only through an upcaster.
 */

/** An event as a decider produces it: no identity or position yet. */
export type Event<Type extends string = string, Data = unknown> = Readonly<{ type: Type; data: Data extends object ? Readonly<Data> : Data }>;

/** Who caused an event: `github:<login>`, `admin:<token name>` or `system:<component>`. */
export type Actor = `github:${string}` | `admin:${string}` | `system:${string}`;

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

export type InstallationCreated = Event<'InstallationCreated', {
  installationId: number;
  account: string;
  accountId: number;
  repositories: readonly RepositoryRef[];
}>;
export type InstallationDeleted = Event<'InstallationDeleted', {
  installationId: number;
  account: string;
  accountId: number;
  repositories: readonly RepositoryRef[];
}>;
export type RepositoryAdded = Event<'RepositoryAdded', { installationId: number } & RepositoryRef>;
export type RepositoryRemoved = Event<'RepositoryRemoved', { installationId: number } & RepositoryRef>;

export type PushReceived = Event<'PushReceived', {
  deliveryId: string;
  owner: string;
  ownerId: number;
  repo: string;
  repositoryId: number;
  private: boolean;
  ref: string;
  branch: string;
  before: string;
  sha: string;
  cloneUrl: string;
  installationId: number | null;
  pusher: string;
  receivedAt: string;
}>;
export type PushIgnored = Event<'PushIgnored', {
  deliveryId: string;
  owner: string;
  repo: string;
  ref: string;
  sha: string;
  reason: string;
}>;

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

/** A function of the stack file that cannot be built; the reason is shown on its commit status. */
export type FunctionRejection = Readonly<{ function: string; name: string; reason: string }>;

export type SourceFetched = Event<'SourceFetched', {
  deliveryId: string;
  owner: string;
  repo: string;
  branch: string;
  sha: string;
  /** `stack.yaml` or `stack.yml`. */
  stackFile: string;
  functions: readonly FunctionSpec[];
  rejected: readonly FunctionRejection[];
}>;
export type SourceRejected = Event<'SourceRejected', {
  deliveryId: string;
  owner: string;
  repo: string;
  branch: string;
  sha: string;
  /** At most 140 characters: it is the commit status description. */
  reason: string;
}>;

type BuildRef = { buildId: string; name: string; owner: string; repo: string; sha: string; contextDigest: string };
/** A build result for a commit older than the newest accepted push on its branch: recorded, never deployed. */
export type BuildSuperseded = Event<'BuildSuperseded', BuildRef & { image: string; supersededBy: string }>;
export type BuildStarted = Event<'BuildStarted', BuildRef>;
/** v2 added `builder` and `imageDigest`; v1 events read as null for both (see upcasters.ts). */
export type BuildSucceeded = Event<'BuildSucceeded', BuildRef & {
  image: string;
  /** The registry's manifest digest of the pushed image, when the builder reports one. */
  imageDigest: string | null;
  builder: 'buildkit' | 'local' | null;
  durationMs: number;
  logRef: string;
  logTail: string;
}>;
export type BuildReused = Event<'BuildReused', BuildRef & { image: string; reusedBuildId: string }>;
export type BuildFailed = Event<'BuildFailed', BuildRef & {
  reason: string;
  durationMs: number;
  logRef: string;
  logTail: string;
}>;

export type FunctionDeployed = Event<'FunctionDeployed', {
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
}>;
export type DeployFailed = Event<'DeployFailed', {
  name: string;
  owner: string;
  repo: string;
  sha: string;
  buildId: string;
  reason: string;
}>;
export type FunctionRemoved = Event<'FunctionRemoved', {
  name: string;
  owner: string;
  repo: string;
  reason: 'not-in-stack' | 'repository-removed' | 'installation-deleted';
}>;

export type CommitStatusReported = Event<'CommitStatusReported', {
  owner: string;
  repo: string;
  sha: string;
  context: string;
  state: 'pending' | 'success' | 'failure' | 'error';
  description: string;
  targetUrl: string | null;
  delivered: boolean;
}>;

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
  | CommitStatusReported;

export type EventType = FaaslineEvent['type'];

/** The schemaVersion each event type is written with today; older stored versions are upcast on read. */
export const currentSchemaVersions: Readonly<Record<EventType, number>> = {
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
  CommitStatusReported: 1,
};

export const eventTypes = Object.keys(currentSchemaVersions) as readonly EventType[];

export const isEventType = (type: string): type is EventType => Object.hasOwn(currentSchemaVersions, type);
