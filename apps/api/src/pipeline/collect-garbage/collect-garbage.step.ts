import { Inject, Injectable } from '@nestjs/common';
import { ownedBy, type PipelineCommand } from '#domain';
import { enqueueSteps, type Backbone, type Logger, type StepOutcome } from '#infra';
import { BACKBONE, LOGGER } from '#projector';
import { PIPELINE_PARTS } from '../pipeline.tokens.js';
import type { PipelineParts } from '../pipeline-parts.js';
import { PipelineStep, type PipelineJob } from '../pipeline-step.js';
import { REMOVE_FUNCTION, type RemoveFunction } from '../remove-function/remove-function.step.js';

type CollectGarbage = Extract<PipelineCommand, { type: 'CollectGarbage' }>;

/**
 * Finds a repository's functions that its stack file no longer declares (or all of them, for a removed
 * repository or an uninstalled App): only functions carrying faasline's labels for that owner and repository.
 * Each removal is its own job, run under the function's deploy lock, so it can never race a deploy.
 */
@Injectable()
export class CollectGarbageStep extends PipelineStep<CollectGarbage> {
  constructor(
    @Inject(BACKBONE) backbone: Backbone,
    @Inject(LOGGER) logger: Logger,
    @Inject(PIPELINE_PARTS) private readonly parts: PipelineParts,
  ) {
    super(backbone, logger, 'collect-garbage', 2);
  }

  protected async run(job: PipelineJob<CollectGarbage>, context: { id: string }): Promise<StepOutcome> {
    const { owner, repo, keep, reason, pushSequence } = job.command;
    const gateway = this.parts.gateway;
    if (!gateway) return { done: true };
    const candidates = (await gateway.list()).filter((fn) => ownedBy(fn.labels, owner, repo) && !keep.includes(fn.name));
    const removals = candidates.map((fn): { id: string; payload: PipelineJob<RemoveFunction> } => ({
      id: `${REMOVE_FUNCTION}:${context.id}:${fn.name}`,
      payload: { command: { name: fn.name, owner, repo, reason, pushSequence }, cause: job.cause },
    }));
    await this.backbone.db.transaction((tx) => enqueueSteps(tx, REMOVE_FUNCTION, removals));
    return { done: true };
  }

}
