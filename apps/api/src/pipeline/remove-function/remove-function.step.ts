import { Inject, Injectable } from '@nestjs/common';
import { fold, functionDecider, streamIds, type FunctionEvent, type FunctionRemoved } from '#domain';
import { handleCommand, type Backbone, type Logger, type StepOutcome } from '#infra';
import { BACKBONE, LOGGER } from '#projector';
import { PIPELINE_PARTS } from '../pipeline.tokens.js';
import type { PipelineParts } from '../pipeline-parts.js';
import { PipelineStep, type PipelineJob } from '../pipeline-step.js';

export const REMOVE_FUNCTION = 'remove-function';

/** One function to remove; `pushSequence` is the push that asked (null: the repository or App went away). */
export type RemoveFunction = Readonly<FunctionRemoved['data'] & { pushSequence: number | null }>;

/**
 * Removes one function, under the same lock as its deploys. The removal is recorded before the gateway call, so
 * a crash in between still deletes it on the re-run; a function a later push of the repository deployed stays.
 */
@Injectable()
export class RemoveFunctionStep extends PipelineStep<RemoveFunction> {
  constructor(
    @Inject(BACKBONE) backbone: Backbone,
    @Inject(LOGGER) logger: Logger,
    @Inject(PIPELINE_PARTS) private readonly parts: PipelineParts,
  ) {
    super(backbone, logger, REMOVE_FUNCTION, 2, (job) => `deploy:${job.payload.command.name}`);
  }

  protected async run(job: PipelineJob<RemoveFunction>, context: { id: string }, signal: AbortSignal): Promise<StepOutcome> {
    const { name, owner, repo, reason, pushSequence } = job.command;
    const streamId = streamIds.function(name);
    const { events } = await this.backbone.store.readStream(streamId);
    const state = fold(functionDecider, events as unknown as FunctionEvent[]);
    const laterPush = state.deployed !== null && pushSequence !== null && state.deployed.repo.toLowerCase() === repo.toLowerCase() && state.deployed.pushSequence > pushSequence;
    if (laterPush || !this.parts.gateway) return { done: true };
    await handleCommand(this.backbone.store, functionDecider, streamId, { type: 'Remove', data: { name, owner, repo, reason } }, this.metadata(job, context.id));
    if (signal.aborted) return { done: false, retryAfterMs: 0, error: 'interrupted' };
    await this.parts.gateway.remove(name);
    this.logger.info(`garbage collection: removed ${name} (${reason})`);
    return { done: true };
  }
}
