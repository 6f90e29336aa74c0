import { Inject, Injectable } from '@nestjs/common';
import { fold, functionDecider, ownedBy, streamIds, type FunctionEvent, type PipelineCommand, type PushReceived } from '#domain';
import { handleCommand, type Backbone, type Logger, type StepOutcome } from '#infra';
import { BACKBONE, LOGGER } from '#projector';
import { PIPELINE_PARTS } from '../pipeline.tokens.js';
import type { PipelineParts } from '../pipeline-parts.js';
import { PipelineStep, type PipelineJob } from '../pipeline-step.js';

type CollectGarbage = Extract<PipelineCommand, { type: 'CollectGarbage' }>;

/**
 * Removes a repository's functions that its stack file no longer declares (or all of them, for a removed
 * repository or an uninstalled App). Only functions carrying faasline's labels for that owner and repository are
 * touched, and never one that a later push deployed.
 */
@Injectable()
export class CollectGarbageStep extends PipelineStep<CollectGarbage> {
  constructor(
    @Inject(BACKBONE) backbone: Backbone,
    @Inject(LOGGER) logger: Logger,
    @Inject(PIPELINE_PARTS) private readonly parts: PipelineParts,
  ) {
    super(backbone, logger, 'collect-garbage', 2, (job) => `gc:${job.payload.command.owner}/${job.payload.command.repo}`.toLowerCase());
  }

  protected async run(job: PipelineJob<CollectGarbage>, context: { id: string }): Promise<StepOutcome> {
    const { owner, repo, keep, reason } = job.command;
    const gateway = this.parts.gateway;
    if (!gateway) return { done: true };
    const pushSequence = reason === 'not-in-stack' ? await this.sequenceOf(job.cause.correlationId, owner, repo) : Number.POSITIVE_INFINITY;
    const candidates = (await gateway.list()).filter((fn) => ownedBy(fn.labels, owner, repo) && !keep.includes(fn.name));
    for (const fn of candidates) {
      const streamId = streamIds.function(fn.name);
      const { events } = await this.backbone.store.readStream(streamId);
      const state = fold(functionDecider, events as unknown as FunctionEvent[]);
      if (state.deployed && state.deployed.pushSequence > pushSequence) continue; // a later push owns it now
      await gateway.remove(fn.name);
      await handleCommand(this.backbone.store, functionDecider, streamId, { type: 'Remove', data: { name: fn.name, owner, repo, reason } }, this.metadata(job, `${context.id}:${fn.name}`));
      this.logger.info(`garbage collection: removed ${fn.name} (${reason})`);
    }
    return { done: true };
  }

  private async sequenceOf(deliveryId: string, owner: string, repo: string): Promise<number> {
    const { events } = await this.backbone.store.readStream(streamIds.repository(owner, repo));
    const push = events.find((event) => event.type === 'PushReceived' && (event as unknown as PushReceived).data.deliveryId === deliveryId);
    return push?.metadata.streamVersion ?? 0;
  }
}
