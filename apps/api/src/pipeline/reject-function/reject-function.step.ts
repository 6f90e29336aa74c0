import { Inject, Injectable } from '@nestjs/common';
import { functionDecider, streamIds, type PipelineCommandOf } from '#domain';
import { handleCommand, type StepOutcome } from '#infra';
import { STEP_CONTEXT } from '../pipeline.tokens.js';
import type { StepContext } from '../pipeline-parts.js';
import { PipelineStep, STEP_OF, type PipelineJob } from '../pipeline-step.js';

type RejectFunction = PipelineCommandOf<'RejectFunction'>;

/**
 * Records a function its stack file declares but that was refused at source on the function's own stream, where its
 * builds and deploys are: the read model then lists it as failed, with its reason, in order with its other events.
 */
@Injectable()
export class RejectFunctionStep extends PipelineStep<RejectFunction> {
  constructor(@Inject(STEP_CONTEXT) context: StepContext) {
    super(context, STEP_OF.RejectFunction, 2, (job) => `deploy:${job.payload.command.rejection.name}`);
  }

  protected async run(job: PipelineJob<RejectFunction>, context: { id: string }): Promise<StepOutcome> {
    if (await this.backbone.store.wasAppended(context.id)) return { done: true };
    const { push, rejection } = job.command;
    await handleCommand(
      this.backbone.store,
      functionDecider,
      streamIds.function(rejection.name),
      {
        type: 'Reject',
        data: {
          name: rejection.name,
          owner: push.owner,
          repo: push.repo,
          function: rejection.function,
          branch: push.branch,
          sha: push.sha,
          deliveryId: push.deliveryId,
          reason: rejection.reason,
          ownerId: push.ownerId,
          repositoryId: push.repositoryId,
        },
      },
      this.metadata(job, context.id),
    );
    return { done: true };
  }
}
