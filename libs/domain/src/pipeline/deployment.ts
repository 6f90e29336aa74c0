import type { FunctionSpec, PushContext } from '../events.js';
import { PREVIEW_LABEL, previewLabel } from '../preview/preview.rules.js';

/** The OpenFaaS gateway's FunctionDeployment body (JSON names exact, per the gateway's OpenAPI document). */
export type FunctionDeployment = Readonly<{
  service: string;
  image: string;
  envProcess?: string;
  envVars: Readonly<Record<string, string>>;
  constraints: readonly string[];
  secrets: readonly string[];
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  limits: Readonly<{ memory?: string; cpu?: string }>;
  requests?: Readonly<{ memory?: string; cpu?: string }>;
  readOnlyRootFilesystem: boolean;
}>;

export const CLOUD_LABEL = 'com.openfaas.cloud.';

/** Applied when a stack file sets no limits: a function cannot take the node's memory by accident. */
export const DEFAULT_LIMITS = { memory: '128Mi' } as const;

/** A Kubernetes label value: at most 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends. */
export const labelValue = (text: string) =>
  text
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');

/**
 * OpenFaaS Cloud's deploy contract: the user's labels and allowed annotations, then the platform's own
 * `com.openfaas.cloud.*` labels (which say whose function this is, so garbage collection touches only its own).
 * `pullSecret` (REGISTRY_PULL_SECRET) is named among the secrets, unprefixed: faas-netes hands a listed secret of
 * type kubernetes.io/dockerconfigjson to the pod as its image pull secret, as `faas-cli deploy --secret` documents.
 */
export function functionDeployment(
  spec: FunctionSpec,
  push: PushContext,
  image: string,
  deployedAt: Date,
  pullSecret: string | null = null,
): FunctionDeployment {
  const hasResources = (resources: FunctionSpec['limits']) => resources.memory !== undefined || resources.cpu !== undefined;
  return {
    service: spec.name,
    image,
    ...(spec.fprocess ? { envProcess: spec.fprocess } : {}),
    envVars: spec.environment,
    constraints: spec.constraints,
    secrets: pullSecret === null || spec.secrets.includes(pullSecret) ? spec.secrets : [...spec.secrets, pullSecret],
    labels: {
      ...spec.labels,
      [`${CLOUD_LABEL}git-cloud`]: '1',
      [`${CLOUD_LABEL}git-owner`]: push.owner.toLowerCase(),
      [`${CLOUD_LABEL}git-owner-id`]: String(push.ownerId),
      [`${CLOUD_LABEL}git-repo`]: labelValue(push.repo),
      [`${CLOUD_LABEL}git-sha`]: push.sha,
      [`${CLOUD_LABEL}git-branch`]: labelValue(push.branch),
      [`${CLOUD_LABEL}git-deploytime`]: String(Math.floor(deployedAt.getTime() / 1000)),
      [`${CLOUD_LABEL}git-private`]: push.private ? '1' : '0',
      [`${CLOUD_LABEL}git-scm`]: 'github',
      ...(push.preview ? { [PREVIEW_LABEL]: previewLabel(push.branch) } : {}),
    },
    annotations: { ...spec.annotations, [`${CLOUD_LABEL}git-repo-url`]: push.cloneUrl.replace(/\.git$/, '') },
    limits: hasResources(spec.limits) ? spec.limits : DEFAULT_LIMITS,
    ...(hasResources(spec.requests) ? { requests: spec.requests } : {}),
    readOnlyRootFilesystem: spec.readOnlyRootFilesystem,
  };
}

/** The labels that name the commit a deployment was made at, not what runs: they change with every push. */
const COMMIT_LABELS = new Set([`${CLOUD_LABEL}git-sha`, `${CLOUD_LABEL}git-deploytime`]);

/**
 * What the gateway runs for a deployment, as stable text: equal text means a new deploy would change nothing
 * but the commit labels, so the push that brings it need not restart the function. Null for a function that
 * mounts secrets: their values may have changed under the same names, and a function reads them as it starts.
 */
export function deploymentSignature(spec: FunctionSpec, push: PushContext, image: string, pullSecret: string | null): string | null {
  if (spec.secrets.length > 0) return null;
  const { labels, ...deployment } = functionDeployment(spec, push, image, new Date(0), pullSecret);
  const kept = Object.fromEntries(Object.entries(labels).filter(([label]) => !COMMIT_LABELS.has(label)));
  return stableJson({ ...deployment, labels: kept });
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** A function as the gateway lists it: enough to tell whose it is and which secrets it mounts. */
export type LiveFunction = Readonly<{
  name: string;
  image?: string;
  labels?: Readonly<Record<string, string>> | null;
  secrets?: readonly string[] | null;
}>;

/**
 * The first of `secrets` that a live function of another GitHub owner already mounts, with that owner, or null.
 * Owner-prefixed secret names collide as function names do (`victim` + `x-db` and `victim-x` + `db` are both
 * `victim-x-db`), and the gateway cannot tell whose a name is: the owner already using it keeps it. Compared by
 * owner id (`git-owner-id`), by login for functions deployed before the label; the operator's own functions
 * (no faasline labels) hold nothing.
 */
export function secretHeldByAnother(
  secrets: readonly string[],
  push: Pick<PushContext, 'owner' | 'ownerId'>,
  live: readonly LiveFunction[],
): Readonly<{ secret: string; owner: string }> | null {
  for (const fn of live) {
    const labels = fn.labels;
    if (labels?.[`${CLOUD_LABEL}git-cloud`] !== '1') continue;
    const ownerId = labels[`${CLOUD_LABEL}git-owner-id`];
    const owner = labels[`${CLOUD_LABEL}git-owner`] ?? '';
    const same = ownerId !== undefined ? ownerId === String(push.ownerId) : owner.toLowerCase() === push.owner.toLowerCase();
    if (same) continue;
    const secret = secrets.find((name) => fn.secrets?.includes(name));
    if (secret !== undefined) return { secret, owner };
  }
  return null;
}

/** Whether a function found on the gateway was deployed by faasline for this owner's repository. */
export const ownedBy = (labels: Readonly<Record<string, string>> | null | undefined, owner: string, repo: string) =>
  labels?.[`${CLOUD_LABEL}git-cloud`] === '1' &&
  labels[`${CLOUD_LABEL}git-owner`]?.toLowerCase() === owner.toLowerCase() &&
  labels[`${CLOUD_LABEL}git-repo`]?.toLowerCase() === labelValue(repo).toLowerCase();

/**
 * Whether the gateway already runs `image` as `name`, deployed from commit `sha`: what an earlier attempt of the same
 * deploy left when its process died after the gateway took it and before FunctionDeployed was recorded. Deploying
 * it again would only roll the function's instances for nothing (the deploy-time label changes).
 */
export const alreadyDeployed = (live: readonly LiveFunction[], name: string, image: string, sha: string) =>
  live.some((fn) => fn.name === name && fn.image === image && fn.labels?.[`${CLOUD_LABEL}git-sha`] === sha);
