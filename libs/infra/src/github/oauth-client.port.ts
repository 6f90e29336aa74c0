/** Who signed in, as the provider knows them: login, numeric id and the organisations they belong to. */
export type OAuthIdentity = Readonly<{ login: string; id: number; orgs: readonly string[] }>;

/** An OAuth provider's authorization-code flow with PKCE (RFC 7636, S256). */
export interface OAuthClient {
  /** Where the browser goes to sign in; the provider sends it back to `redirectUri` with a code and the same `state`. */
  authorizeUrl(request: Readonly<{ state: string; codeChallenge: string; redirectUri: string }>): string;
  /**
   * Exchanges the code (with the verifier whose challenge went to `authorizeUrl`) for a token, reads who it belongs
   * to, and forgets it. Throws `SignInRefused` when the provider says no.
   */
  identify(exchange: Readonly<{ code: string; codeVerifier: string; redirectUri: string }>): Promise<OAuthIdentity>;
}

/** The provider refused the sign-in (a wrong, used or expired code, a verifier that does not match): the user starts again. */
export class SignInRefused extends Error {
  override readonly name = 'SignInRefused';
}
