import type { CommitEvent, Event, FunctionEvent, InstallationEvent, OwnerEvent, RepositoryEvent } from './events.js';

declare const eventsOfStream: unique symbol;

/** A stream's id, carrying the events the stream holds: the store's typed reads and appends take it. */
export type StreamId<E extends Event> = string & { readonly [eventsOfStream]: E };

const streamOf =
  <E extends Event, Args extends unknown[]>(id: (...args: Args) => string) =>
  (...args: Args) =>
    id(...args) as StreamId<E>;

/** Stream ids: one stream per installation, per repository and per deployed function. */
export const streamIds = {
  installation: streamOf<InstallationEvent, [installationId: number]>((installationId) => `installation-${installationId}`),
  repository: streamOf<RepositoryEvent, [owner: string, repo: string]>(
    (owner, repo) => `repository-${owner.toLowerCase()}/${repo.toLowerCase()}`,
  ),
  function: streamOf<FunctionEvent, [name: string]>((name) => `function-${name}`),
  /** The commit statuses reported for one commit. */
  commit: streamOf<CommitEvent, [owner: string, repo: string, sha: string]>(
    (owner, repo, sha) => `commit-${owner.toLowerCase()}/${repo.toLowerCase()}@${sha}`,
  ),
  /** An owner's API tokens and managed secrets; GitHub logins are case-insensitive. */
  owner: streamOf<OwnerEvent, [owner: string]>((owner) => `owner-${owner.toLowerCase()}`),
} as const;

/** Kubernetes' DNS-1123 label: what an OpenFaaS service name must be. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const MAX_FUNCTION_NAME = 63;

/** OpenFaaS Cloud's service name: the owner lower-cased (GitHub logins are case-insensitive), then the stack key. */
export const functionName = (owner: string, functionKey: string) => `${owner.toLowerCase()}-${functionKey}`;

/** Why `name` cannot be an OpenFaaS service name, or null when it can. */
export function functionNameProblem(name: string): string | null {
  if (name.length > MAX_FUNCTION_NAME) return `the function name is ${name.length} characters; the limit is ${MAX_FUNCTION_NAME}`;
  if (!DNS_LABEL.test(name)) return `function name "${name}" must be lower-case letters, digits and "-", starting and ending alphanumeric`;
  return null;
}

/**
 * The name a function of a stack file is listed under in the read model (`GET /api/v1/functions/{name}`): its
 * service name, and for a stack key that cannot make one (`My_Fn`, `a b`, 80 characters) the same
 * `<lowercase owner>-<key>` with every character but letters, digits, `.`, `_` and `-` percent-encoded, so it is
 * one URL path segment. Such a name is never a valid service name, so it cannot stand for a running function.
 */
export const listedFunctionName = (owner: string, functionKey: string) =>
  `${owner.toLowerCase()}-${functionKey.replace(/[^A-Za-z0-9._-]/gu, (char) =>
    [...new TextEncoder().encode(char)].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  )}`;

/**
 * Why `name` can be neither a service name nor the listed name of a stack key that makes none, or null: the read
 * API's `{name}` takes both, and still refuses what no stack file could have produced (`-bad-`, `Not_A_Name`).
 */
export function listedFunctionNameProblem(name: string): string | null {
  const problem = functionNameProblem(name);
  if (problem === null) return null;
  const listed = /^[a-z0-9][a-z0-9-]*-[A-Za-z0-9._%-]+$/.test(name) && name.length <= MAX_LISTED_NAME;
  return listed ? null : problem;
}

/** Longer than any stack key worth listing (the stack file allows 512 KB); keeps the path parameter bounded. */
const MAX_LISTED_NAME = 1000;

/** Secrets are per owner in one shared namespace: `<lowercase owner>-<name>`. */
export const deployedSecretName = (owner: string, secret: string) => `${owner.toLowerCase()}-${secret}`;

/** Kubernetes secret names are DNS-1123 subdomains. */
export const isSecretName = (name: string) => name.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name);

/** Kubernetes' rule for environment variable names (a superset of POSIX's). */
export const isEnvironmentName = (name: string) => /^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name);

export type ImageRefInput = Readonly<{ registry: string; owner: string; repo: string; image: string; branch: string; sha: string }>;

/**
 * OpenFaaS Cloud's `formatImageShaTag`: the stack's image keeps only its last path segment and tag (default
 * `latest`), the tag gets `-<branch>-<sha7>`, and the registry prefix is `<registry>/<owner>/<repo>-` or, for one
 * shared account (a registry ending in `/`), `<registry><owner>-<repo>-`. Docker references are lower case.
 */
export function imageRef({ registry, owner, repo, image, branch, sha }: ImageRefInput): string {
  const lastSegment = image.replace(/@.*$/, '').split('/').at(-1) ?? '';
  const [base = '', tag = 'latest'] = lastSegment.split(':');
  const fullTag = `${tag}-${branch}-${sha.slice(0, 7)}`.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 128);
  const repository = registry.endsWith('/') ? `${registry}${owner}-${repo}-${base}` : `${registry}/${owner}/${repo}-${base}`;
  return `${repository}:${fullTag}`.toLowerCase();
}

/**
 * The image as the gateway pulls it: OpenFaaS Cloud's buildshiprun swapped `push_repository_url` for `repository_url`
 * before deploying, for a registry the cluster reaches by another name. REGISTRY_PULL (`registryPull`) takes the place
 * of REGISTRY's prefix; an image of another registry, or no REGISTRY_PULL, stays as it is.
 */
export function pullImage(image: string, registry: string, registryPull: string | null): string {
  if (registryPull === null) return image;
  const prefix = (registry: string) => (registry.endsWith('/') ? registry : `${registry}/`);
  return image.startsWith(prefix(registry)) ? `${prefix(registryPull)}${image.slice(prefix(registry).length)}` : image;
}

export const MAX_STATUS_DESCRIPTION = 140;

/**
 * An absolute file path inside a message: a `/` that does not continue a word, a URL or a relative path, then
 * at least two segments. URLs (`http://host/function/x`) and names with `/` (`owner/repo`) do not match.
 */
const SERVER_PATH = /(?<![\w.:/~@-])\/(?:[^\s/'"`:;,()<>[\]{}]+\/)+([^\s/'"`:;,()<>[\]{}]*)/g;

/**
 * A failure reason as tenants may read it: absolute paths (DATA_DIR, temporary folders, the installation) become
 * `…/<last segment>`, so a reason still says which file without saying where the server keeps it.
 */
export const withoutServerPaths = (text: string) => text.replace(SERVER_PATH, (_path, last: string) => `…/${last}`);

/** The most of a failure reason an event keeps: whole sentences, bounded however long a key or message is. */
export const MAX_REASON = 1000;

/** A failure reason as recorded and shown in the read model: without server paths, and bounded (not cut to 140). */
export const failureReason = (text: string) => {
  const safe = withoutServerPaths(text);
  return safe.length <= MAX_REASON ? safe : `${safe.slice(0, MAX_REASON - 1)}…`;
};

/**
 * A commit status description, also the reason the read API shows: without server paths, and cut to 140
 * characters (GitHub refuses a longer one with a 422).
 */
export const statusDescription = (text: string) => {
  const safe = withoutServerPaths(text);
  return safe.length <= MAX_STATUS_DESCRIPTION ? safe : `${safe.slice(0, MAX_STATUS_DESCRIPTION - 1)}…`;
};
