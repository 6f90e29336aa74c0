import type {
  BuildStarted,
  FaaslineEvent,
  FunctionDeployed,
  FunctionRolledBack,
  FunctionSpec,
  PushContext,
  PushReceived,
  RecordedEvent,
  SourceFetched,
} from './events.js';

/**
 * The events the specs feed their deciders, workflows, projections and adapters, one way everywhere: a push of
 * alexellis/fns to master unless a spec says otherwise. For specs and tests only (not exported from the package).
 */

let position = 0;

/** `event` as the store would hand it over: a fresh event id and global position on every call. */
export const recordedAt = <E extends FaaslineEvent>(
  event: E,
  { streamVersion = 1, occurredAt = '2026-12-01T00:00:00Z' }: { streamVersion?: number; occurredAt?: string } = {},
): RecordedEvent<E> =>
  ({
    ...event,
    metadata: {
      eventId: `e${++position}`,
      streamId: 's',
      streamVersion,
      globalPosition: position,
      occurredAt,
      correlationId: 'd-1',
      causationId: 'x',
      actor: 'system:test',
      schemaVersion: 1,
    },
  }) as RecordedEvent<E>;

export const pushData = (sha: string, overrides: Partial<PushReceived['data']> = {}): PushReceived['data'] => ({
  deliveryId: 'd-1',
  owner: 'alexellis',
  ownerId: 1,
  repo: 'fns',
  repositoryId: 2,
  private: false,
  ref: 'refs/heads/master',
  branch: 'master',
  before: '0'.repeat(40),
  sha,
  cloneUrl: 'https://github.com/alexellis/fns.git',
  installationId: 7,
  pusher: 'alexellis',
  receivedAt: 'now',
  ...overrides,
});

/** The push as the pipeline's build and deploy commands carry it. */
export const pushContext = (sha: string, overrides: Partial<PushContext> = {}): PushContext => ({
  deliveryId: 'd-1',
  owner: 'alexellis',
  repo: 'fns',
  branch: 'master',
  sha,
  installationId: null,
  pushSequence: 1,
  private: false,
  ownerId: 1,
  repositoryId: 2,
  cloneUrl: 'https://github.com/alexellis/fns.git',
  ...overrides,
});

/** Function `fn` of the stack as the source fetch reads it, named `<owner>-<fn>` as faasline names it. */
export const functionSpec = (fn: string, overrides: Partial<FunctionSpec> & { owner?: string } = {}): FunctionSpec => {
  const { owner = 'alexellis', ...rest } = overrides;
  return {
    function: fn,
    name: `${owner.toLowerCase()}-${fn}`,
    lang: 'node20',
    handler: fn,
    image: `local/${owner.toLowerCase()}/fns-${fn}:latest-master-aaaaaaa`,
    fprocess: null,
    contextDigest: `sha256:${fn}`,
    contextBytes: 1,
    buildArgs: {},
    environment: {},
    labels: {},
    annotations: {},
    secrets: [],
    limits: {},
    requests: {},
    readOnlyRootFilesystem: true,
    constraints: [],
    ...rest,
  };
};

/** The fetch of the push's stack file, which found `functions`. */
export const fetchedData = (
  sha: string,
  functions: readonly FunctionSpec[],
  overrides: Partial<SourceFetched['data']> = {},
): SourceFetched['data'] => ({
  deliveryId: 'd-1',
  owner: 'alexellis',
  repo: 'fns',
  branch: 'master',
  sha,
  stackFile: 'stack.yml',
  functions,
  rejected: [],
  ...overrides,
});

/** The build of function `fn` at `sha`, as each build event names it. */
export const buildRef = (fn: string, sha: string): BuildStarted['data'] => ({
  buildId: `b-${fn}`,
  name: `alexellis-${fn}`,
  owner: 'alexellis',
  repo: 'fns',
  sha,
  contextDigest: `sha256:${fn}`,
});

export const deployedData = (fn: string, sha: string): FunctionDeployed['data'] => ({
  name: `alexellis-${fn}`,
  owner: 'alexellis',
  repo: 'fns',
  function: fn,
  branch: 'master',
  sha,
  image: 'i',
  endpoint: `http://gw/function/alexellis-${fn}`,
  deliveryId: 'd-1',
  buildId: `b-${fn}`,
  pushSequence: 3,
  ownerId: 1,
  repositoryId: 2,
});

/** A rollback of alexellis-fn1 from build b-2 (commit `from`) to build b-1 (commit `to`), images named after them. */
export const rolledBackData = (
  from: string,
  to: string,
  overrides: Partial<FunctionRolledBack['data']> = {},
): FunctionRolledBack['data'] => ({
  name: 'alexellis-fn1',
  owner: 'alexellis',
  repo: 'fns',
  buildId: 'b-1',
  sha: to,
  image: `img:${to}`,
  fromBuildId: 'b-2',
  fromSha: from,
  fromImage: `img:${from}`,
  reason: 'v2 answers 500',
  holdsThroughPush: 2,
  push: pushContext(to),
  spec: functionSpec('fn1'),
  ...overrides,
});

/** alexellis-fn1's deploy of `sha` by push `pushSequence` (build b-<pushSequence>, image img:<sha>). */
export const fn1Deployment = (
  pushSequence: number,
  sha: string,
  deployment?: string,
): FunctionDeployed['data'] & Readonly<{ ownerId: number; repositoryId: number }> => ({
  name: 'alexellis-fn1',
  owner: 'alexellis',
  repo: 'fns',
  function: 'fn1',
  branch: 'master',
  sha,
  image: `img:${sha}`,
  endpoint: 'http://gw/function/alexellis-fn1',
  deliveryId: `d-${pushSequence}`,
  buildId: `b-${pushSequence}`,
  pushSequence,
  ownerId: 1,
  repositoryId: 2,
  ...(deployment ? { deployment } : {}),
});
