import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { decidePipeline, evolvePush, fairShareGroup, initialPushState, type FaaslineEvent, type PipelineCommand, type RecordedEvent } from '#domain';
import { enqueueSteps, readEventsByCorrelation, type Backbone, type Subscription } from '#infra';
import { BACKBONE } from '#projector';
import { causeOf, type PipelineJob } from '../pipeline-step.js';

export const STEP_OF: Readonly<Record<PipelineCommand['type'], string>> = {
  Build: 'build',
  Deploy: 'deploy',
  ReportStatus: 'report-status',
  CollectGarbage: 'collect-garbage',
};

const RELEVANT = new Set<string>([
  'SourceFetched',
  'SourceRejected',
  'BuildStarted',
  'BuildSucceeded',
  'BuildReused',
  'BuildFailed',
  'BuildSuperseded',
  'FunctionDeployed',
  'DeployFailed',
  'RepositoryRemoved',
  'InstallationDeleted',
]);

/**
 * The durable process manager. For each event it folds the events of the same delivery that came before it,
 * asks the pure `decidePipeline` what to do, and enqueues the answer as jobs — in the transaction that advances
 * its checkpoint, so a decision is acted on exactly once however often the process dies.
 */
@Injectable()
export class PipelineProcessManager implements OnApplicationBootstrap, OnApplicationShutdown {
  private subscription: Subscription | null = null;

  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.backbone.log.subscribe('pipeline.process', (events, tx) => this.handle(events as RecordedEvent<FaaslineEvent>[], tx));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.close();
  }

  private async handle(events: readonly RecordedEvent<FaaslineEvent>[], tx: EntityManager): Promise<void> {
    const jobs = new Map<string, { id: string; payload: PipelineJob<PipelineCommand>; group: string | null }[]>();
    for (const event of events) {
      if (!RELEVANT.has(event.type)) continue;
      const history = (await readEventsByCorrelation(tx, event.metadata.correlationId, event.metadata.globalPosition)) as RecordedEvent<FaaslineEvent>[];
      const commands = decidePipeline(event, history.reduce(evolvePush, initialPushState()));
      commands.forEach((command, index) => {
        const step = STEP_OF[command.type];
        const list = jobs.get(step) ?? [];
        list.push({ id: `${step}:${event.metadata.eventId}:${index}`, payload: { command, cause: causeOf(event) }, group: fairShareGroup(command) });
        jobs.set(step, list);
      });
    }
    for (const [step, list] of jobs) await enqueueSteps(tx, step, list);
  }
}
