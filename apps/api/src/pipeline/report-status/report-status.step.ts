import { Inject, Injectable } from '@nestjs/common';
import { streamIds, type CommitStatusReported, type PipelineCommandOf } from '#domain';
import type { StepOutcome } from '#infra';
import { STEP_CONTEXT } from '../pipeline.tokens.js';
import type { StepContext } from '../pipeline-parts.js';
import { PipelineStep, STEP_OF, type PipelineJob } from '../pipeline-step.js';

type ReportStatus = PipelineCommandOf<'ReportStatus'>;

/**
 * Sends one commit status to GitHub and records that it did (or why it could not) as CommitStatusReported.
 * Statuses of one commit are sent in the order they were decided: the queue runs them one at a time per commit.
 */
@Injectable()
export class ReportStatusStep extends PipelineStep<ReportStatus> {
  constructor(@Inject(STEP_CONTEXT) context: StepContext) {
    super(
      context,
      STEP_OF.ReportStatus,
      4,
      (job) => `status:${job.payload.command.owner}/${job.payload.command.repo}@${job.payload.command.sha}`,
    );
  }

  protected async run(job: PipelineJob<ReportStatus>, context: { id: string }, signal: AbortSignal): Promise<StepOutcome> {
    if (await this.backbone.store.wasAppended(context.id)) return { done: true };
    const status = job.command;
    const targetUrl =
      status.link?.kind === 'endpoint'
        ? this.parts.links.endpoint(status.link.name)
        : status.link?.kind === 'log'
          ? this.parts.links.buildLog(status.link.buildId)
          : null;
    const result = await this.parts.reporter.report({ ...status, targetUrl }, signal);
    if (!result.delivered)
      this.logger.info(
        `status ${status.context} ${status.state} for ${status.owner}/${status.repo}@${status.sha.slice(0, 7)} not sent: ${result.detail}`,
      );
    const event: CommitStatusReported = {
      type: 'CommitStatusReported',
      data: {
        owner: status.owner,
        repo: status.repo,
        sha: status.sha,
        context: status.context,
        state: status.state,
        description: status.description,
        // Jobs queued before the whole text was kept carry none.
        detail: status.detail ?? null,
        targetUrl,
        delivered: result.delivered,
      },
    };
    await this.backbone.store.append(
      streamIds.commit(status.owner, status.repo, status.sha),
      'any',
      [event],
      this.metadata(job, context.id),
    );
    return { done: true };
  }
}
