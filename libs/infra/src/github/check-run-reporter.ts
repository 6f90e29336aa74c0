import { request } from '@octokit/request';
import type { ReportCheckRun } from '#domain';
import type { GitCredentials } from './git-credentials.port.js';
import { githubHeaders, reportToGitHub } from './github-reporting.js';

/** The workflow's `ReportCheckRun` in GitHub's terms (delivery and link resolved): derived from it, so the two cannot drift apart. */
export type CheckRunReport = Omit<ReportCheckRun, 'type' | 'deliveryId' | 'link'> &
  Readonly<{
    /** The delivery id: GitHub hands it back as `external_id` when the check run is re-requested. */
    externalId: string;
    detailsUrl: string | null;
  }>;

export type CheckRunResult = Readonly<{ delivered: boolean; checkRunId: number | null; detail: string }>;

/**
 * POST /repos/{owner}/{repo}/check-runs, or PATCH …/check-runs/{id} for a check run created before, with the
 * installation's token: the Checks API takes GitHub App installation tokens only, so with GITHUB_TOKEN or no
 * credentials nothing is sent. Retried as `reportToGitHub` says.
 */
export class CheckRunReporter {
  constructor(
    private readonly credentials: GitCredentials,
    private readonly apiUrl: string,
    private readonly retries = 4,
    private readonly backoffMs = 250,
  ) {}

  get enabled(): boolean {
    return this.credentials.kind === 'github-app';
  }

  /**
   * `existingId`: the check run created for this delivery before, if one was recorded. `lookUp`: also ask GitHub for
   * a check run of this delivery before creating one (a retry after a crash between creating it and recording it
   * must not leave a second one in progress forever).
   */
  async report(run: CheckRunReport, existingId: number | null, signal?: AbortSignal, lookUp = false): Promise<CheckRunResult> {
    if (!this.enabled) return { delivered: false, checkRunId: existingId, detail: 'check runs need a GitHub App: recorded only' };
    const body = {
      name: run.name,
      status: run.status,
      started_at: run.startedAt,
      external_id: run.externalId,
      ...(run.detailsUrl ? { details_url: run.detailsUrl } : {}),
      ...(run.status === 'completed' ? { conclusion: run.conclusion, completed_at: run.completedAt } : {}),
      output: {
        title: run.title,
        summary: run.summary,
        annotations: run.annotations.map((a) => ({
          path: a.path,
          start_line: a.startLine,
          end_line: a.endLine,
          annotation_level: a.level,
          title: a.title,
          message: a.message,
        })),
      },
    };
    return reportToGitHub(
      async (): Promise<CheckRunResult> => {
        const token = await this.credentials.tokenFor(run.installationId);
        if (token === null) return { delivered: false, checkRunId: existingId, detail: 'no token for this installation' };
        const common = {
          baseUrl: this.apiUrl,
          headers: githubHeaders(token),
          owner: run.owner,
          repo: run.repo,
          ...(signal ? { request: { signal } } : {}),
        };
        const knownId = existingId ?? (lookUp ? await this.find(run, common) : null);
        if (knownId !== null) {
          // Octokit types the body as one of two shapes chosen by `status`; the body above is built to the same rule.
          await request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
            ...common,
            check_run_id: knownId,
            ...body,
          } as never);
          return { delivered: true, checkRunId: knownId, detail: 'updated' };
        }
        const created = await request('POST /repos/{owner}/{repo}/check-runs', { ...common, head_sha: run.sha, ...body } as never);
        return { delivered: true, checkRunId: Number((created.data as { id: number }).id), detail: 'created' };
      },
      (detail) => ({ delivered: false, checkRunId: existingId, detail }),
      { retries: this.retries, backoffMs: this.backoffMs, signal },
    );
  }

  /** The check run of this name created for this delivery on the commit, if GitHub has one. */
  private async find(run: CheckRunReport, common: Record<string, unknown> & { owner: string; repo: string }): Promise<number | null> {
    const { data } = await request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
      ...common,
      ref: run.sha,
      check_name: run.name,
      filter: 'all',
      per_page: 100,
    });
    const found = data.check_runs.find((candidate) => candidate.external_id === run.externalId);
    return found ? Number(found.id) : null;
  }
}
