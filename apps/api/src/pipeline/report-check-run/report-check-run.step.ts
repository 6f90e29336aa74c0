import { Inject, Injectable } from '@nestjs/common';
import { streamIds, type CheckRunReported, type CommitEvent, type ReportCheckRun } from '#domain';
import type { StepOutcome } from '#infra';
import { STEP_CONTEXT } from '../pipeline.tokens.js';
import type { StepContext } from '../pipeline-parts.js';
import { PipelineStep, type PipelineJob } from '../pipeline-step.js';

export const REPORT_CHECK_RUN_STEP = 'report-check-run';

/**
 * Creates a push's check run, or updates the one created for it before (found by its delivery in the commit's
 * CheckRunReported events), and records what GitHub answered. The jobs of one push run one at a time; a report
 * that arrives after the check run completed (a retried in-progress report) is left out, so a finished check run
 * never goes back to in progress.
 */
@Injectable()
export class ReportCheckRunStep extends PipelineStep<ReportCheckRun> {
  constructor(@Inject(STEP_CONTEXT) context: StepContext) {
    super(context, REPORT_CHECK_RUN_STEP, 2, (job) => `check-run:${job.payload.command.deliveryId}`);
  }

  protected async run(
    job: PipelineJob<ReportCheckRun>,
    context: { id: string; attempts: number },
    signal: AbortSignal,
  ): Promise<StepOutcome> {
    if (await this.backbone.store.wasAppended(context.id)) return { done: true };
    const run = job.command;
    const stream = streamIds.commit(run.owner, run.repo, run.sha);
    const { events } = await this.backbone.store.readStream<CommitEvent>(stream);
    const earlier = events.filter(
      (event): event is typeof event & CheckRunReported => event.type === 'CheckRunReported' && event.data.deliveryId === run.deliveryId,
    );
    if (run.status !== 'completed' && earlier.some((event) => event.data.status === 'completed')) return { done: true };
    const existingId = earlier.map((event) => event.data.checkRunId).findLast((id) => id !== null) ?? null;
    const detailsUrl = run.link?.kind === 'log' ? this.parts.links.buildLog(run.link.buildId) : null;
    const result = await this.parts.checks.report(
      {
        owner: run.owner,
        repo: run.repo,
        sha: run.sha,
        installationId: run.installationId,
        externalId: run.deliveryId,
        name: run.name,
        status: run.status,
        startedAt: run.startedAt,
        completedAt: run.completedAt,
        conclusion: run.conclusion,
        title: run.title,
        summary: run.summary,
        annotations: run.annotations,
        detailsUrl,
      },
      existingId,
      signal,
      // A retry may follow a crash between creating the check run and recording it; a completion with no recorded
      // check run may follow a create GitHub took but never answered. Either way: ask GitHub before creating.
      existingId === null && (context.attempts > 1 || run.status === 'completed'),
    );
    if (!result.delivered)
      this.logger.info(`check run ${run.status} for ${run.owner}/${run.repo}@${run.sha.slice(0, 7)} not sent: ${result.detail}`);
    const event: CheckRunReported = {
      type: 'CheckRunReported',
      data: {
        owner: run.owner,
        repo: run.repo,
        sha: run.sha,
        deliveryId: run.deliveryId,
        checkRunId: result.checkRunId,
        name: run.name,
        status: run.status,
        conclusion: run.conclusion,
        title: run.title,
        summary: run.summary,
        annotations: run.annotations.length,
        detailsUrl,
        delivered: result.delivered,
      },
    };
    await this.backbone.store.append(stream, 'any', [event], this.metadata(job, context.id));
    return { done: true };
  }
}
