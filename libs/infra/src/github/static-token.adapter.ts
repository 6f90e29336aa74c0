import type { GitCredentials } from './git-credentials.port.js';

/** `GITHUB_TOKEN`: one token for every repository it can read. */
export const staticTokenCredentials = (token: string): GitCredentials => ({ kind: 'token', tokenFor: async () => token });
