import { createHash, randomBytes } from 'node:crypto';

/** An owner API token's record: never the token, only who it speaks for. */
export type OwnerToken = Readonly<{ id: string; owner: string; revoked: boolean }>;

/** Where owner tokens are kept, by the sha256 of the token. */
export interface OwnerTokenStore {
  add(token: Readonly<{ id: string; owner: string; sha256: string; issuedBy: string }>): Promise<void>;
  /** The unrevoked token whose hash this is, or null. */
  findActive(sha256: string): Promise<OwnerToken | null>;
  find(id: string): Promise<OwnerToken | null>;
  /** Marks it revoked; false when there is no such token. */
  revoke(id: string): Promise<boolean>;
}

export const OWNER_TOKEN_PREFIX = 'flo_';

/** A fresh token (256 random bits, so a hash lookup cannot be guessed into) and the hash kept of it. */
export function newOwnerToken(): Readonly<{ token: string; sha256: string }> {
  const token = `${OWNER_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, sha256: ownerTokenHash(token) };
}

export const ownerTokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export const looksLikeOwnerToken = (token: string) => token.startsWith(OWNER_TOKEN_PREFIX) && token.length < 200;
