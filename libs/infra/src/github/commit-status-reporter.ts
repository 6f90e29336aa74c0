import { request } from '@octokit/request';
import type { GitCredentials } from './git-credentials.port.js';

export type CommitStatus = Readonly<{
  owner: string;
  repo: string;
  sha: string;
  installationId: number | null;
  context: string;
  state: 'pending' | 'success' | 'failure' | 'error';
  description: string;
  targetUrl: string | null;
}>;

export type ReportResult = Readonly<{ delivered: boolean; detail: string }>;

/**
 * POST /repos/{owner}/{repo}/statuses/{sha} with the installation's token (or GITHUB_TOKEN). Server errors and
 * network failures are retried with backoff; a 4xx is final (retrying cannot change GitHub's mind).
 */
export class CommitStatusReporter {
  constructor(
    private readonly credentials: GitCredentials,
    private readonly apiUrl: string,
    private readonly retries = 4,
    private readonly backoffMs = 250,
  ) {}

  async report(status: CommitStatus): Promise<ReportResult> {
    if (this.credentials.kind === 'none') return { delivered: false, detail: 'no GitHub credentials configured: recorded only' };
    for (let attempt = 0; ; attempt += 1) {
      try {
        const token = await this.credentials.tokenFor(status.installationId);
        if (token === null) return { delivered: false, detail: 'no token for this installation' };
        await request('POST /repos/{owner}/{repo}/statuses/{sha}', {
          baseUrl: this.apiUrl,
          headers: { authorization: `token ${token}`, 'x-github-api-version': '2022-11-28' },
          owner: status.owner,
          repo: status.repo,
          sha: status.sha,
          state: status.state,
          context: status.context,
          description: status.description,
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
        });
        return { delivered: true, detail: 'created' };
      } catch (error) {
        const code = (error as { status?: number }).status ?? 0;
        const final = code >= 400 && code < 500;
        if (final || attempt >= this.retries) return { delivered: false, detail: `GitHub answered ${code || 'nothing'}: ${(error as Error).message.slice(0, 200)}` };
        await new Promise((resolve) => setTimeout(resolve, this.backoffMs * 2 ** attempt));
      }
    }
  }
}
