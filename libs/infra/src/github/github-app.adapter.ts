import { createAppAuth } from '@octokit/auth-app';
import { request } from '@octokit/request';
import type { GitCredentials } from './git-credentials.port.js';

export type GitHubAppCredentialsOptions = Readonly<{ appId: string; privateKey: string; apiUrl: string }>;

/**
 * A GitHub App: an RS256 JWT signed with the App key buys an installation token (one hour), which
 * @octokit/auth-app caches and reuses until shortly before it expires.
 */
export function githubAppCredentials(options: GitHubAppCredentialsOptions): GitCredentials {
  const auth = createAppAuth({
    appId: options.appId,
    privateKey: options.privateKey,
    request: request.defaults({ baseUrl: options.apiUrl }),
  });
  return {
    kind: 'github-app',
    tokenFor: async (installationId) => {
      if (installationId === null) return null;
      const { token } = await auth({ type: 'installation', installationId });
      return token;
    },
  };
}
