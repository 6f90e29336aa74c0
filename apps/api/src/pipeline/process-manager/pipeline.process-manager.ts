import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  checkRunWorkflow,
  isCheckRunInput,
  isPipelineEvent,
  pipelineWorkflow,
  type Event,
  type PipelineCommand,
  type PipelineEvent,
  type PushState,
  type RecordedEvent,
  type CheckRunInput,
  type CheckRunState,
  type ReportCheckRun,
} from '#domain';
import { enqueueSteps, foldWorkflowStates, type Backbone, type CorrelatedWorkflow, type QueuedStep, type Subscription } from '#infra';
import { BACKBONE } from '#kernel';
import { causeOf, enqueueCommands, jobId, type QueuedCommand } from '../pipeline-step.js';
import type { PipelineParts } from '../pipeline-parts.js';
import { PIPELINE_PARTS } from '../pipeline.tokens.js';
import { REPORT_CHECK_RUN_STEP } from '../report-check-run/report-check-run.step.js';

const PIPELINE: CorrelatedWorkflow<PipelineEvent, PipelineCommand, PushState> = {
  name: 'pipeline',
  workflow: pipelineWorkflow,
  isInput: isPipelineEvent,
};

/** Check runs are folded by the same subscriber as the pipeline: a server that becomes an App reports on new pushes, not old ones. */
const CHECKS: CorrelatedWorkflow<CheckRunInput, ReportCheckRun, CheckRunState> = {
  name: 'checks',
  workflow: checkRunWorkflow,
  isInput: isCheckRunInput,
};

/**
 * The durable process manager. Each event is handed to the pure pipeline workflow with the state of its push
 * (its delivery), kept folded beside the checkpoint; the commands it answers with are enqueued as jobs in the
 * transaction that advances the checkpoint, so a decision is acted on exactly once however often the process dies.
 */
@Injectable()
export class PipelineProcessManager implements OnApplicationBootstrap, OnApplicationShutdown {
  private subscription: Subscription | null = null;

  constructor(
    @Inject(BACKBONE) private readonly backbone: Backbone,
    @Inject(PIPELINE_PARTS) private readonly parts: PipelineParts,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.backbone.log.subscribe('pipeline.process', (events, tx) => this.handle(events, tx));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.close();
  }

  private async handle(events: readonly RecordedEvent<Event>[], tx: EntityManager): Promise<void> {
    const jobs: QueuedCommand[] = [];
    await foldWorkflowStates(
      tx,
      PIPELINE,
      events,
      (event, state) => {
        const commands = pipelineWorkflow.decide(event, state);
        commands.forEach((command, index) =>
          jobs.push({ id: jobId(command, event.metadata.eventId, index), command, cause: causeOf(event) }),
        );
      },
      { ordered: this.backbone.log.mode === 'embedded' },
    );
    await enqueueCommands(tx, jobs);
    // Without a GitHub App there is no Checks API to talk to: statuses only.
    if (!this.parts.checks.enabled) return;
    const checkRuns: QueuedStep[] = [];
    await foldWorkflowStates(
      tx,
      CHECKS,
      events,
      (event, state) =>
        checkRunWorkflow.decide(event, state).forEach((command, index) =>
          checkRuns.push({
            id: `${REPORT_CHECK_RUN_STEP}:${event.metadata.eventId}:${index}`,
            payload: { command, cause: causeOf(event) },
          }),
        ),
      { ordered: this.backbone.log.mode === 'embedded' },
    );
    await enqueueSteps(tx, REPORT_CHECK_RUN_STEP, checkRuns);
  }
}
