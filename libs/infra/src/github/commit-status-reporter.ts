import { request } from '@octokit/request';
import type { GitCredentials } from './git-credentials.port.js';
import { githubHeaders, reportToGitHub } from './github-reporting.js';

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
 * POST /repos/{owner}/{repo}/statuses/{sha} with the installation's token (or GITHUB_TOKEN), retried as
 * `reportToGitHub` says.
 */
export class CommitStatusReporter {
  constructor(
    private readonly credentials: GitCredentials,
    private readonly apiUrl: string,
    private readonly retries = 4,
    private readonly backoffMs = 250,
  ) {}

  /** `signal`: shutdown; the report is then left undone (it throws) rather than waiting out a backoff. */
  async report(status: CommitStatus, signal?: AbortSignal): Promise<ReportResult> {
    if (this.credentials.kind === 'none') return { delivered: false, detail: 'no GitHub credentials configured: recorded only' };
    return reportToGitHub(
      async (): Promise<ReportResult> => {
        const token = await this.credentials.tokenFor(status.installationId);
        if (token === null) return { delivered: false, detail: 'no token for this installation' };
        await request('POST /repos/{owner}/{repo}/statuses/{sha}', {
          baseUrl: this.apiUrl,
          headers: githubHeaders(token),
          owner: status.owner,
          repo: status.repo,
          sha: status.sha,
          state: status.state,
          context: status.context,
          description: status.description,
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
          ...(signal ? { request: { signal } } : {}),
        });
        return { delivered: true, detail: 'created' };
      },
      (detail) => ({ delivered: false, detail }),
      { retries: this.retries, backoffMs: this.backoffMs, signal },
    );
  }
}
