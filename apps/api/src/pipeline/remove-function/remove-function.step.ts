import { Inject, Injectable } from '@nestjs/common';
import { functionDecider, streamIds, type PipelineCommandOf } from '#domain';
import { handleCommand, type StepOutcome } from '#infra';
import { STEP_CONTEXT } from '../pipeline.tokens.js';
import type { StepContext } from '../pipeline-parts.js';
import { PipelineStep, STEP_OF, type PipelineJob } from '../pipeline-step.js';

type RemoveFunction = PipelineCommandOf<'RemoveFunction'>;

/**
 * Removes one function, under the same lock as its deploys, when the function decider says so (a function a later
 * push of the repository deployed stays), or once a deletion asked over the API is recorded. The removal is recorded before the gateway call, so a crash in between
 * still deletes it on the re-run.
 */
@Injectable()
export class RemoveFunctionStep extends PipelineStep<RemoveFunction> {
  constructor(@Inject(STEP_CONTEXT) context: StepContext) {
    super(context, STEP_OF.RemoveFunction, 2, (job) => `deploy:${job.payload.command.name}`);
  }

  protected async run(job: PipelineJob<RemoveFunction>, context: { id: string }, signal: AbortSignal): Promise<StepOutcome> {
    const { name, owner, repo, reason, pushSequence } = job.command;
    const gateway = this.parts.gateway;
    if (!gateway) return { done: true };
    const command = { type: 'Remove', data: { name, owner, repo, reason, pushSequence } } as const;
    const { state } = await handleCommand(
      this.backbone.store,
      functionDecider,
      streamIds.function(name),
      command,
      this.metadata(job, context.id),
    );
    // Removed now or by an earlier run of this job; otherwise a later push's deploy keeps it.
    if (!state.removed) return { done: true };
    if (signal.aborted) return { done: false, retryAfterMs: 0, error: 'interrupted' };
    await gateway.remove(name);
    this.logger.info(reason === 'deleted' ? `deleted ${name}` : `garbage collection: removed ${name} (${reason})`);
    return { done: true };
  }
}
