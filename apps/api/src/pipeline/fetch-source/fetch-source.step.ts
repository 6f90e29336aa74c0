import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ownerShare, repositoryDecider, streamIds, type PushReceived, type RecordedEvent } from '#domain';
import { enqueueSteps, recordDecision, runSteps, type Backbone, type Logger, type StepOutcome, type StepRunner, type Subscription } from '#infra';
import { BACKBONE, LOGGER } from '#projector';
import { SOURCE_READER } from '../pipeline.tokens.js';
import { readSource, type SourceOutcome, type SourceReader } from './read-source.js';

export const FETCH_SOURCE = 'fetch-source';
const MAX_ATTEMPTS = 4;

/**
 * Every accepted push becomes a durable job (enqueued in the same transaction that advances this subscriber's
 * checkpoint), and a job ends in exactly one SourceFetched or SourceRejected: the result is appended with the
 * push event's id as idempotency key, so a job re-run after a crash records nothing twice.
 */
@Injectable()
export class FetchSourceStep implements OnApplicationBootstrap, OnApplicationShutdown {
  private subscription: Subscription | null = null;
  private runner: StepRunner | null = null;

  constructor(
    @Inject(BACKBONE) private readonly backbone: Backbone,
    @Inject(SOURCE_READER) private readonly reader: SourceReader,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.backbone.log.subscribe(`pipeline.${FETCH_SOURCE}`, (events, tx) =>
      enqueueSteps(
        tx,
        FETCH_SOURCE,
        events
          .filter((event) => event.type === 'PushReceived')
          .map((event) => ({ id: `${FETCH_SOURCE}:${event.metadata.eventId}`, payload: event, group: ownerShare((event as RecordedEvent<PushReceived>).data.owner) })),
      ),
    );
    this.runner = await runSteps<RecordedEvent<PushReceived>>(
      this.backbone.db,
      this.backbone.databaseUrl,
      FETCH_SOURCE,
      {
        concurrency: this.reader.config.source.concurrency,
        logger: this.logger,
        // Owners take turns, each with half the fetch slots at most: one owner's burst of pushes leaves room.
        fairness: { maxRunningPerGroup: Math.max(1, Math.floor(this.reader.config.source.concurrency / 2)) },
      },
      (job, signal) => this.run(job.payload, job.attempts, signal),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.close();
    await this.runner?.close();
  }

  private async run(event: RecordedEvent<PushReceived>, attempt: number, signal: AbortSignal): Promise<StepOutcome> {
    const push = event.data;
    let outcome: SourceOutcome;
    try {
      outcome = await readSource(this.reader, push, signal);
    } catch (error) {
      // Unexpected (a token that cannot be had, a full disk, a bug): retried, then refused in words that leak nothing.
      this.logger.error(`source ${push.owner}/${push.repo}@${push.sha.slice(0, 7)} attempt ${attempt}: ${(error as Error).message}`);
      outcome = { kind: 'retry', reason: 'faasline could not read the source; the server log has the details' };
    }
    // Shutting down: leave the job for the next start, record nothing.
    if (signal.aborted) return { done: false, retryAfterMs: 0, error: 'interrupted by shutdown' };
    if (outcome.kind === 'retry' && attempt < MAX_ATTEMPTS) {
      return { done: false, retryAfterMs: 1000 * 2 ** attempt, error: outcome.reason };
    }
    const metadata = {
      correlationId: event.metadata.correlationId,
      causationId: event.metadata.eventId,
      actor: 'system:source' as const,
      idempotencyKey: `${FETCH_SOURCE}:${event.metadata.eventId}`,
    };
    const streamId = streamIds.repository(push.owner, push.repo);
    if (outcome.kind === 'fetched') {
      await recordDecision(this.backbone.store, repositoryDecider, streamId, { type: 'RecordSourceFetched', data: outcome.data }, metadata);
      this.logger.info(`source ${push.owner}/${push.repo}@${push.sha.slice(0, 7)}: ${outcome.data.functions.length} function(s) packaged, ${outcome.data.rejected.length} rejected`);
    } else {
      const data = { deliveryId: push.deliveryId, owner: push.owner, repo: push.repo, branch: push.branch, sha: push.sha, reason: outcome.reason };
      await recordDecision(this.backbone.store, repositoryDecider, streamId, { type: 'RecordSourceRejected', data }, metadata);
      this.logger.warn(`source ${push.owner}/${push.repo}@${push.sha.slice(0, 7)} rejected: ${outcome.reason}`);
    }
    return { done: true };
  }
}
