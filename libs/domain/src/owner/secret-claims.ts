import { CLOUD_LABEL, type LiveFunction } from '../pipeline/deployment.js';

export type SecretClaimant = Readonly<{ owner: string; ownerId: number | null }>;

/**
 * Why `owner` may not set the deployed secret `secret`, or null when it may. Owner-prefixed names collide
 * (`acme` + `labs-key` and `acme-labs` + `key` are both `acme-labs-key`) and the gateway cannot tell whose a name
 * is, so the first owner keeps it: the one that set it last through faasline (`holder`), or a live function of
 * another GitHub owner that mounts it (compared by owner id when both are known, else by login). The operator's
 * own functions (no faasline labels) hold nothing; nor may anyone take a name the platform reserves (the image
 * pull secret every deployment names: `acme` + `registry-secret`... would replace it for everyone).
 */
export function secretClaimProblem(
  secret: string,
  claimant: SecretClaimant,
  holder: string | null,
  live: readonly LiveFunction[],
  /** Secrets the platform itself deploys with every function (REGISTRY_PULL_SECRET): no owner may replace them. */
  reserved: readonly string[] = [],
): string | null {
  if (reserved.includes(secret)) return `secret name ${secret} is reserved by the platform: choose another name`;
  const same = (login: string) => login.toLowerCase() === claimant.owner.toLowerCase();
  if (holder !== null && !same(holder)) return `secret name ${secret} is held by GitHub owner ${holder}: choose another name`;
  for (const fn of live) {
    const labels = fn.labels;
    if (labels?.[`${CLOUD_LABEL}git-cloud`] !== '1' || !fn.secrets?.includes(secret)) continue;
    const owner = labels[`${CLOUD_LABEL}git-owner`] ?? '';
    const ownerId = labels[`${CLOUD_LABEL}git-owner-id`];
    const mine = ownerId !== undefined && claimant.ownerId !== null ? ownerId === String(claimant.ownerId) : same(owner);
    if (!mine) return `secret name ${secret} is used by GitHub owner ${owner}: choose another name`;
  }
  return null;
}
