/** Who may read a private repository: a token for the installation that delivered the push, or none. */
export interface GitCredentials {
  readonly kind: 'none' | 'token' | 'github-app';
  /** A token for `x-access-token` basic auth, or null to fetch anonymously. Never logged, never in an event. */
  tokenFor(installationId: number | null): Promise<string | null>;
}

export const anonymousCredentials: GitCredentials = { kind: 'none', tokenFor: async () => null };
