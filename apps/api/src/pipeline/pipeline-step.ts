import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { runSteps, type Backbone, type GroupShare, type Logger, type StepOutcome, type StepRunner } from '#infra';
import type { RecordedEvent, Event } from '#domain';

/** A job of the pipeline: the command a process-manager decision produced, with the event that caused it. */
export type PipelineJob<C> = Readonly<{ command: C; cause: Readonly<{ eventId: string; correlationId: string }> }>;

export const causeOf = (event: RecordedEvent<Event>) => ({ eventId: event.metadata.eventId, correlationId: event.metadata.correlationId });

/**
 * One pipeline step: a job runner started with the application and stopped with it. Subclasses say what a job
 * does; the queue makes it durable, retried and run once at a time.
 */
export abstract class PipelineStep<C> implements OnApplicationBootstrap, OnApplicationShutdown {
  private runner: StepRunner | null = null;

  protected constructor(
    protected readonly backbone: Backbone,
    protected readonly logger: Logger,
    private readonly step: string,
    private readonly concurrency: number,
    private readonly lockKey?: (job: { id: string; payload: PipelineJob<C> }) => string,
    /** Jobs run by owner in turn, at most this many of one owner at once anywhere (their group is set at enqueue). */
    private readonly maxRunningPerOwner?: number,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.runner = await runSteps<PipelineJob<C>>(
      this.backbone.db,
      this.backbone.databaseUrl,
      this.step,
      {
        concurrency: this.concurrency,
        logger: this.logger,
        ...(this.lockKey ? { lockKey: this.lockKey } : {}),
        ...(this.maxRunningPerOwner ? { fairness: { maxRunningPerGroup: this.maxRunningPerOwner } } : {}),
      },
      (job, signal, share) => this.run(job.payload, { id: job.id, attempts: job.attempts, share }, signal),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner?.close();
  }

  protected metadata(job: PipelineJob<C>, idempotencyKey: string) {
    return { correlationId: job.cause.correlationId, causationId: job.cause.eventId, actor: 'system:pipeline' as const, idempotencyKey };
  }

  /** `context.share` holds places counted across processes for part of a job (an owner's builds). */
  protected abstract run(job: PipelineJob<C>, context: Readonly<{ id: string; attempts: number; share: GroupShare }>, signal: AbortSignal): Promise<StepOutcome>;
}
