import { Inject, Injectable } from '@nestjs/common';
import { repositoryDecider, streamIds, type PipelineCommandOf } from '#domain';
import { jobRetryAfterMs, recordDecision, type StepOutcome } from '#infra';
import type { StepContext } from '../pipeline-parts.js';
import { PipelineStep, STEP_OF, type PipelineJob } from '../pipeline-step.js';
import { SOURCE_READER, STEP_CONTEXT } from '../pipeline.tokens.js';
import { readSource, type SourceOutcome, type SourceReader } from './read-source.js';

type FetchSource = PipelineCommandOf<'FetchSource'>;
const MAX_ATTEMPTS = 4;

/**
 * Fetches and packages the source of an accepted push. A job ends in exactly one SourceFetched or SourceRejected:
 * the result is appended with the push event's id as idempotency key, so a job re-run after a crash records
 * nothing twice.
 */
@Injectable()
export class FetchSourceStep extends PipelineStep<FetchSource> {
  constructor(
    @Inject(STEP_CONTEXT) context: StepContext,
    @Inject(SOURCE_READER) private readonly reader: SourceReader,
  ) {
    // Owners take turns, each with half the fetch slots at most: one owner's burst of pushes leaves room.
    const { concurrency } = reader.config.source;
    super(context, STEP_OF.FetchSource, concurrency, undefined, Math.max(1, Math.floor(concurrency / 2)));
  }

  protected async run(job: PipelineJob<FetchSource>, context: { attempts: number }, signal: AbortSignal): Promise<StepOutcome> {
    const { push } = job.command;
    const attempt = context.attempts;
    let outcome: SourceOutcome;
    try {
      outcome = await readSource(this.reader, push, signal);
    } catch (error) {
      // Unexpected (a token that cannot be had, a full disk, a bug): retried, then refused in words that leak nothing.
      this.logger.error(`source ${push.owner}/${push.repo}@${push.sha.slice(0, 7)} attempt ${attempt}: ${(error as Error).message}`);
      outcome = { kind: 'retry', reason: 'faasline could not read the source; the server log has the details' };
    }
    // Shutting down: leave the job for the next start, record nothing.
    if (signal.aborted) return { done: false, retryAfterMs: 0, error: 'interrupted by shutdown' };
    if (outcome.kind === 'retry' && attempt < MAX_ATTEMPTS) {
      return { done: false, retryAfterMs: jobRetryAfterMs(attempt), error: outcome.reason };
    }
    const metadata = { ...this.metadata(job, `${STEP_OF.FetchSource}:${job.cause.eventId}`), actor: 'system:source' as const };
    const streamId = streamIds.repository(push.owner, push.repo);
    if (outcome.kind === 'fetched') {
      await recordDecision(this.backbone.store, repositoryDecider, streamId, { type: 'RecordSourceFetched', data: outcome.data }, metadata);
      this.logger.info(
        `source ${push.owner}/${push.repo}@${push.sha.slice(0, 7)}: ${outcome.data.functions.length} function(s) packaged, ${outcome.data.rejected.length} rejected`,
      );
    } else {
      const data = {
        deliveryId: push.deliveryId,
        owner: push.owner,
        repo: push.repo,
        branch: push.branch,
        sha: push.sha,
        reason: outcome.reason,
      };
      await recordDecision(this.backbone.store, repositoryDecider, streamId, { type: 'RecordSourceRejected', data }, metadata);
      this.logger.warn(`source ${push.owner}/${push.repo}@${push.sha.slice(0, 7)} rejected: ${outcome.reason}`);
    }
    return { done: true };
  }
}
