import { createHash, randomBytes } from 'node:crypto';

/**
 * A signed-in browser. Only the sha256 of its id is stored, so the table opens no session; the GitHub token it was
 * opened with is not kept at all (the owners are read once, at sign-in).
 */
export type Session = Readonly<{
  /** `github`: signed in with GitHub; `local`: the sign-in-free admin session of a loopback-only install. */
  kind: 'github' | 'local';
  login: string | null;
  githubId: number | null;
  /** The organisations the user belonged to at sign-in (their own login is not among them). */
  orgs: readonly string[];
  admin: boolean;
  createdAt: Date;
  expiresAt: Date;
}>;

/** A sign-in under way: what the callback needs to finish it, found by the `state` it sent to GitHub. */
export type SignInAttempt = Readonly<{
  /** sha256 of the nonce in the browser's sign-in cookie: the callback must come from the browser that started. */
  browserSha256: string;
  codeVerifier: string;
  returnTo: string;
  expiresAt: Date;
}>;

/** Where sessions and sign-ins under way are kept. */
export interface SessionStore {
  open(idSha256: string, session: Session): Promise<void>;
  /** The session whose id hashes to this, unless it expired (an expired one is deleted); marks it seen. */
  find(idSha256: string, now: Date): Promise<Session | null>;
  close(idSha256: string): Promise<void>;
  /** Deletes expired sessions and sign-ins; answers how many of each. */
  sweep(now: Date): Promise<Readonly<{ sessions: number; attempts: number }>>;
  begin(stateSha256: string, attempt: SignInAttempt): Promise<void>;
  /** Takes the attempt out (a state opens at most once), whether or not it expired: the caller checks. */
  take(stateSha256: string): Promise<SignInAttempt | null>;
}

/** 256 random bits, base64url: session ids, states, nonces, PKCE verifiers (43 characters, as RFC 7636 asks). */
export const randomSecret = () => randomBytes(32).toString('base64url');

export const sha256Hex = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

/** RFC 7636 S256: base64url(sha256(verifier)). */
export const codeChallengeOf = (verifier: string) => createHash('sha256').update(verifier, 'ascii').digest('base64url');

/**
 * The CSRF token of a session, derived from its id so nothing more is stored; one-way, so the token (which pages
 * can read) never leads back to the id (which only the HttpOnly cookie holds).
 */
export const csrfTokenOf = (sessionId: string) => createHash('sha256').update(`faasline-csrf\0${sessionId}`, 'utf8').digest('base64url');
