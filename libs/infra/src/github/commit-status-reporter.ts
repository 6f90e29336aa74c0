import { request } from '@octokit/request';
import { retrying } from '../retry/backoff.js';
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

  /** `signal`: shutdown; the report is then left undone (it throws) rather than waiting out a backoff. */
  async report(status: CommitStatus, signal?: AbortSignal): Promise<ReportResult> {
    if (this.credentials.kind === 'none') return { delivered: false, detail: 'no GitHub credentials configured: recorded only' };
    try {
      return await retrying(
        async () => {
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
            ...(signal ? { request: { signal } } : {}),
          });
          return { delivered: true, detail: 'created' };
        },
        {
          retries: this.retries,
          backoff: { baseMs: this.backoffMs, maxMs: Number.POSITIVE_INFINITY },
          isFinal: (error) => isClientError(statusOf(error)),
          ...(signal ? { signal } : {}),
        },
      );
    } catch (error) {
      if (signal?.aborted) throw error;
      const code = statusOf(error);
      return { delivered: false, detail: `GitHub answered ${code || 'nothing'}: ${(error as Error).message.slice(0, 200)}` };
    }
  }
}

const statusOf = (error: unknown): number => (error as { status?: number }).status ?? 0;
const isClientError = (code: number) => code >= 400 && code < 500;
