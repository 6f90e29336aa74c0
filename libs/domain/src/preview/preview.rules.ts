import { functionName, MAX_FUNCTION_NAME } from '../naming.js';

/**
 * Branch previews: a push to another branch than the build branch deploys its functions beside production, as
 * `<owner>-<fn>-<branch slug>`, until the branch is deleted or has seen no push for PREVIEW_TTL.
 */

/** PREVIEW_BRANCHES as the server reads it: glob patterns of branches that get previews, or null (previews off). */
export type PreviewPolicy = Readonly<{ branches: readonly string[] }> | null;

/** `PREVIEW_BRANCHES=true`: every branch but the build branch. */
export const EVERY_BRANCH = '**';

/** The label that marks a preview; its value is the branch's label (`previewLabel`), so a branch's previews can be found. */
export const PREVIEW_LABEL = 'com.openfaas.cloud.git-preview';

/** Git-style globs: `*` and `?` stay inside one path segment, `**` crosses `/`. */
function globRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index]!;
    if (char === '*' && pattern[index + 1] === '*') {
      source += '.*';
      index++;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Whether a push to `branch` deploys a preview: previews on, another branch than the build branch, and a pattern matches. */
export const isPreviewBranch = (policy: PreviewPolicy, branch: string, buildBranch: string): boolean =>
  policy !== null && branch !== buildBranch && policy.branches.some((pattern) => globRegExp(pattern).test(branch));

/** FNV-1a (32 bits) in base 36: a short, stable tag of a branch name; no cryptography needed, only spread. */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36).padStart(7, '0');
}

/** What survives of a branch name in a DNS label: accents dropped, lower case, every other run of characters a `-`. */
const slugOf = (branch: string) =>
  branch
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** Branch names that read the same as their slug once separators become `-` (`feature/x` → `feature-x`). */
const PLAIN_BRANCH = /^[a-z0-9]+([/._-]+[a-z0-9]+)*$/;

/**
 * The branch's part of a name, at most `room` characters. A plain branch that fits is kept as it reads; one that
 * does not fit, or loses letters on the way (upper case, unicode, symbols), is cut and tagged with a hash of the
 * whole branch name, so two long branches sharing a prefix never get one name.
 */
export function branchSlug(branch: string, room: number): string {
  const slug = slugOf(branch);
  if (PLAIN_BRANCH.test(branch) && slug.length <= room) return slug;
  const hash = shortHash(branch);
  const head = slug.slice(0, Math.max(0, room - hash.length - 1)).replace(/-+$/, '');
  return head === '' ? hash : `${head}-${hash}`;
}

/**
 * A preview's OpenFaaS service name: `<owner>-<fn>-<branch slug>`, at most 63 characters. When `<owner>-<fn>`
 * leaves no room for the slug's hash the name comes out too long, and the function's name rule rejects it.
 */
export function previewFunctionName(owner: string, functionKey: string, branch: string): string {
  const base = functionName(owner, functionKey);
  return `${base}-${branchSlug(branch, Math.max(MAX_FUNCTION_NAME - base.length - 1, 7))}`;
}

/** The value of PREVIEW_LABEL for a branch: a Kubernetes label value (63 characters) naming it. */
export const previewLabel = (branch: string) => branchSlug(branch, 63);

/** Whether a function found on the gateway is a preview (of `branch`, when given). */
/** A function's labels as the gateway lists them (absent for functions deployed without any). */
type Labels = Readonly<Record<string, string>> | null | undefined;

export const isPreview = (labels: Labels, branch?: string): boolean => {
  const value = labels?.[PREVIEW_LABEL];
  return value !== undefined && (branch === undefined || value === previewLabel(branch));
};

/**
 * Previews whose branch has seen no push for `ttlMs`: every push to the branch redeploys its previews, so the
 * deploy time (`git-deploytime`, seconds) is the branch's last push that went live.
 */
export function expiredPreviews<F extends Readonly<{ labels?: Labels }>>(live: readonly F[], nowMs: number, ttlMs: number): F[] {
  return live.filter((fn) => {
    if (!isPreview(fn.labels)) return false;
    const deployedAt = Number(fn.labels?.['com.openfaas.cloud.git-deploytime']);
    return Number.isFinite(deployedAt) && nowMs - deployedAt * 1000 >= ttlMs;
  });
}

/** Whether a deployed function's name is a preview's: production is always `<owner>-<fn>`. */
export const isPreviewName = (name: string, owner: string, functionKey: string) => name !== functionName(owner, functionKey);
