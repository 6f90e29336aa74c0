import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { functionDecider, isPreview, pipelineWorkflow, streamIds } from '#domain';
import { readState } from '#infra';
import { STEP_CONTEXT } from '../pipeline.tokens.js';
import type { StepContext } from '../pipeline-parts.js';
import { enqueueCommands, jobId } from '../pipeline-step.js';

/** Often enough that a preview outlives PREVIEW_TTL by a quarter of it at most, never more than five minutes. */
const sweepIntervalMs = (ttlMs: number) => Math.min(Math.max(Math.floor(ttlMs / 4), 1000), 5 * 60_000);

/**
 * PREVIEW_TTL's sweep: lists the gateway's functions and hands them to the pipeline workflow, which picks previews
 * whose branch has seen no push for PREVIEW_TTL; each removal is a job of the remove-function step (recorded as
 * `FunctionRemoved`, reason `preview-expired`). Job ids name the function and its deploy time, so processes
 * sweeping at once, or a sweep repeated before the removal ran, enqueue each removal once.
 */
@Injectable()
export class ExpirePreviewsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(@Inject(STEP_CONTEXT) private readonly context: StepContext) {}

  onApplicationBootstrap(): void {
    if (!this.context.parts.gateway) return;
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.sweeping;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sweeping = this.sweep()
        .catch((error: unknown) => this.context.logger.warn(`preview expiry: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => this.schedule());
    }, sweepIntervalMs(this.context.parts.config.previews.ttlMs));
    this.timer.unref();
  }

  private async sweep(): Promise<void> {
    const { backbone, parts } = this.context;
    const live = await parts.gateway!.list();
    const pushSequences: Record<string, number> = {};
    for (const fn of live.filter((listed) => isPreview(listed.labels))) {
      const { state } = await readState(backbone.store, functionDecider, streamIds.function(fn.name));
      if (state.deployed) pushSequences[fn.name] = state.deployed.pushSequence;
    }
    const data = { live, pushSequences, nowMs: Date.now(), ttlMs: parts.config.previews.ttlMs };
    const listed = { type: 'PreviewsListed', data } as const;
    const deployedAt = new Map(live.map((fn) => [fn.name, fn.labels?.['com.openfaas.cloud.git-deploytime'] ?? '']));
    const jobs = pipelineWorkflow.decide(listed, pipelineWorkflow.initialState()).map((command) => {
      const cause = `preview-expiry:${command.type === 'RemoveFunction' ? `${command.name}@${deployedAt.get(command.name)}` : ''}`;
      return { id: jobId(command, cause, 0), command, cause: { eventId: cause, correlationId: cause } };
    });
    if (jobs.length > 0) await backbone.db.transaction((tx) => enqueueCommands(tx, jobs));
  }
}
