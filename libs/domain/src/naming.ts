/** Stream ids: one stream per installation, per repository and per deployed function. */
export const streamIds = {
  installation: (installationId: number) => `installation-${installationId}`,
  repository: (owner: string, repo: string) => `repository-${owner.toLowerCase()}/${repo.toLowerCase()}`,
  function: (name: string) => `function-${name}`,
  /** The commit statuses reported for one commit. */
  commit: (owner: string, repo: string, sha: string) => `commit-${owner.toLowerCase()}/${repo.toLowerCase()}@${sha}`,
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

/**
 * A commit status description, also the reason the read API shows: without server paths, and cut to 140
 * characters (GitHub refuses a longer one with a 422).
 */
export const statusDescription = (text: string) => {
  const safe = withoutServerPaths(text);
  return safe.length <= MAX_STATUS_DESCRIPTION ? safe : `${safe.slice(0, MAX_STATUS_DESCRIPTION - 1)}…`;
};
