import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  enqueueSteps,
  runSteps,
  type Backbone,
  type GroupShare,
  type Logger,
  type QueuedStep,
  type StepOutcome,
  type StepRunner,
} from '#infra';
import { fairShareGroup, type Event, type PipelineCommand, type RecordedEvent } from '#domain';
import type { PipelineParts, StepContext } from './pipeline-parts.js';

type Cause = Readonly<{ eventId: string; correlationId: string }>;

/** A job of the pipeline: a command the pipeline workflow decided on, with the event that caused it. */
export type PipelineJob<C> = Readonly<{ command: C; cause: Cause }>;

export const causeOf = (event: RecordedEvent<Event>): Cause => ({
  eventId: event.metadata.eventId,
  correlationId: event.metadata.correlationId,
});

/** The step (job queue) that runs each command. */
export const STEP_OF: Readonly<Record<PipelineCommand['type'], string>> = {
  FetchSource: 'fetch-source',
  ApplySecrets: 'apply-secrets',
  Build: 'build',
  Deploy: 'deploy',
  ReportStatus: 'report-status',
  CollectGarbage: 'collect-garbage',
  RemoveFunction: 'remove-function',
  RejectFunction: 'reject-function',
};

/**
 * A command's job id: its step, what called for it (an event, or the job whose result it answers) and its place in
 * the answer, so deciding on the same input again enqueues nothing twice. Fetches and removals keep the ids they
 * had before the workflow decided them (by push event, by function name), so a job enqueued then is not run twice.
 */
export function jobId(command: PipelineCommand, causeId: string, index: number): string {
  switch (command.type) {
    case 'FetchSource':
      return `${STEP_OF.FetchSource}:${causeId}`;
    case 'RemoveFunction':
      return `${STEP_OF.RemoveFunction}:${causeId}:${command.name}`;
    default:
      return `${STEP_OF[command.type]}:${causeId}:${index}`;
  }
}

export type QueuedCommand = Readonly<{ id: string; command: PipelineCommand; cause: Cause }>;

/** Enqueues commands as jobs of their steps, in the caller's transaction; each job runs in its owner's turn. */
export async function enqueueCommands(tx: EntityManager, jobs: readonly QueuedCommand[]): Promise<void> {
  const byStep = new Map<string, QueuedStep[]>();
  for (const { id, command, cause } of jobs) {
    const step = STEP_OF[command.type];
    byStep.set(step, [...(byStep.get(step) ?? []), { id, payload: { command, cause }, group: fairShareGroup(command) }]);
  }
  for (const [step, list] of byStep) await enqueueSteps(tx, step, list);
}

/**
 * One pipeline step: a job runner started with the application and stopped with it. Subclasses say what a job
 * does; the queue makes it durable, retried and run once at a time.
 */
export abstract class PipelineStep<C> implements OnApplicationBootstrap, OnApplicationShutdown {
  private runner: StepRunner | null = null;
  private starting: Promise<void> | null = null;
  private stopped = false;
  private readonly serving: Promise<void>;
  protected readonly backbone: Backbone;
  protected readonly logger: Logger;
  protected readonly parts: PipelineParts;

  protected constructor(
    { backbone, logger, parts, serving }: StepContext,
    private readonly step: string,
    private readonly concurrency: number,
    private readonly lockKey?: (job: { id: string; payload: PipelineJob<C> }) => string,
    /** Jobs run by owner in turn, at most this many of one owner at once anywhere (their group is set at enqueue). */
    private readonly maxRunningPerOwner?: number,
  ) {
    this.backbone = backbone;
    this.logger = logger;
    this.parts = parts;
    this.serving = serving;
  }

  // Not awaited: the server listens only after every bootstrap hook has returned.
  onApplicationBootstrap(): void {
    void this.serving.then(() => {
      if (this.stopped) return;
      this.starting = this.start().catch((error: unknown) => {
        // Stopped while the runner opened its connection: there is nothing left to run.
        if (!this.stopped) throw error;
      });
    });
  }

  private async start(): Promise<void> {
    this.runner = await runSteps<PipelineJob<C>>(
      this.backbone.db,
      this.backbone.databaseUrl,
      this.step,
      {
        concurrency: this.concurrency,
        logger: this.logger,
        logContext: (job) => ({ correlationId: job.payload.cause.correlationId, causationId: job.payload.cause.eventId }),
        ...(this.lockKey ? { lockKey: this.lockKey } : {}),
        ...(this.maxRunningPerOwner ? { fairness: { maxRunningPerGroup: this.maxRunningPerOwner } } : {}),
      },
      (job, signal, share) => this.run(job.payload, { id: job.id, attempts: job.attempts, share }, signal),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.starting;
    await this.runner?.close();
  }

  protected metadata(job: PipelineJob<C>, idempotencyKey: string) {
    return { correlationId: job.cause.correlationId, causationId: job.cause.eventId, actor: 'system:pipeline' as const, idempotencyKey };
  }

  /** `context.share` holds places counted across processes for part of a job (an owner's builds). */
  protected abstract run(
    job: PipelineJob<C>,
    context: Readonly<{ id: string; attempts: number; share: GroupShare }>,
    signal: AbortSignal,
  ): Promise<StepOutcome>;
}
