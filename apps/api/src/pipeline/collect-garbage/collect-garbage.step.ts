import { Inject, Injectable } from '@nestjs/common';
import { pipelineWorkflow, type PipelineCommandOf } from '#domain';
import type { StepOutcome } from '#infra';
import { STEP_CONTEXT } from '../pipeline.tokens.js';
import type { StepContext } from '../pipeline-parts.js';
import { enqueueCommands, jobId, PipelineStep, STEP_OF, type PipelineJob } from '../pipeline-step.js';

type CollectGarbage = PipelineCommandOf<'CollectGarbage'>;

/**
 * Lists the gateway's functions and hands them to the pipeline workflow, which picks a repository's functions that
 * its stack file no longer declares (or all of them, for a removed repository or an uninstalled App). Each removal
 * is its own job, run under the function's deploy lock, so it can never race a deploy.
 */
@Injectable()
export class CollectGarbageStep extends PipelineStep<CollectGarbage> {
  constructor(@Inject(STEP_CONTEXT) context: StepContext) {
    super(context, STEP_OF.CollectGarbage, 2);
  }

  protected async run(job: PipelineJob<CollectGarbage>, context: { id: string }): Promise<StepOutcome> {
    const gateway = this.parts.gateway;
    if (!gateway) return { done: true };
    const listed = { type: 'GarbageListed', data: { collect: job.command, live: await gateway.list() } } as const;
    const removals = pipelineWorkflow
      .decide(listed, pipelineWorkflow.initialState())
      .map((command, index) => ({ id: jobId(command, context.id, index), command, cause: job.cause }));
    await this.backbone.db.transaction((tx) => enqueueCommands(tx, removals));
    return { done: true };
  }
}
