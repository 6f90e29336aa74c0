import { Inject, Injectable } from '@nestjs/common';
import pLimit, { type LimitFunction } from 'p-limit';
import {
  functionDecider,
  ownerShare,
  streamIds,
  type BuildStarted,
  type FunctionEvent,
  type PipelineCommandOf,
  type StreamId,
} from '#domain';
import {
  BuildFailure,
  BuildLog,
  handleCommand,
  idempotentEventId,
  jobRetryAfterMs,
  readState,
  type GroupShare,
  type StepOutcome,
} from '#infra';
import { STEP_CONTEXT } from '../pipeline.tokens.js';
import type { StepContext } from '../pipeline-parts.js';
import { PipelineStep, STEP_OF, type PipelineJob } from '../pipeline-step.js';
import { RunningLog } from './running-log.js';

type Build = PipelineCommandOf<'Build'>;
type BuildRef = BuildStarted['data'];
const MAX_ATTEMPTS = 3;
const CONTEXT_URL_TTL_MS = 30 * 60_000;

/**
 * Builds one function of one push, at most BUILD_CONCURRENCY at a time per process. An unchanged context digest
 * reuses the earlier image (the function decider says so); a job re-run after a crash finds what it already
 * recorded and carries on from there.
 */
@Injectable()
export class BuildStep extends PipelineStep<Build> {
  constructor(@Inject(STEP_CONTEXT) context: StepContext) {
    // More jobs than build slots: deciding to reuse an image must not wait behind builds in progress. Owners take
    // turns for the jobs, a few more each than the builds they may run, so one owner never takes every job.
    const { config } = context.parts;
    super(context, STEP_OF.Build, config.buildConcurrency + 8, undefined, config.fairShare.maxBuildsPerOwner + 4);
    this.slots = pLimit(config.buildConcurrency);
  }

  /** At most BUILD_CONCURRENCY builds at once in this process. */
  private readonly slots: LimitFunction;

  protected async run(
    job: PipelineJob<Build>,
    context: { id: string; attempts: number; share: GroupShare },
    signal: AbortSignal,
  ): Promise<StepOutcome> {
    const { push, spec } = job.command;
    const buildId = idempotentEventId(context.id, 0);
    const ref: BuildRef = {
      buildId,
      name: spec.name,
      owner: push.owner,
      repo: push.repo,
      sha: push.sha,
      contextDigest: spec.contextDigest,
      function: spec.function,
      branch: push.branch,
      // Recorded with the build: the image answers for these platforms only (the local builder builds for its own).
      ...(this.parts.builder.kind === 'buildkit' && this.parts.config.buildPlatforms.length > 0
        ? { platforms: this.parts.config.buildPlatforms }
        : {}),
    };
    const streamId = streamIds.function(spec.name);
    const goneImages = await this.goneImages(streamId, spec.contextDigest);
    await handleCommand(
      this.backbone.store,
      functionDecider,
      streamId,
      { type: 'StartBuild', data: { ...ref, ownerId: push.ownerId, repositoryId: push.repositoryId, goneImages } },
      this.metadata(job, `${context.id}:start`),
    );
    const recorded = await this.recordedFor(streamId, buildId, job.cause.correlationId);
    if (recorded.some((event) => event.type !== 'BuildStarted')) return { done: true }; // reused, or finished before a crash

    // However much a build prints, the server keeps (and stores) only the log's head and tail.
    const lines = new BuildLog();
    // A flood of short lines arrives many per millisecond: the timestamp is formatted once per millisecond.
    let stampedAt = 0;
    let stamp = '';
    const running = new RunningLog(() => this.parts.logs.save(buildId, lines));
    const log = (line: string) => {
      const now = Date.now();
      if (now !== stampedAt) [stampedAt, stamp] = [now, new Date(now).toISOString()];
      lines.push(`${stamp} ${line}`);
      running.grew();
    };
    const started = Date.now();
    const archive = await this.parts.contexts.get(spec.contextDigest);
    if (!archive) return this.fail(job, context, ref, `build context ${spec.contextDigest} is missing`, lines, started);
    // One of the owner's MAX_BUILDS_PER_OWNER places, counted across processes, before a build slot of this one:
    // an owner's waiting builds never sit in the slots another owner could use.
    const releaseOwnerPlace = await context.share.hold(ownerShare(push.owner), this.parts.config.fairShare.maxBuildsPerOwner);
    try {
      const result = await this.slots(() =>
        this.parts.builder.build(
          {
            buildId,
            owner: typeof push.ownerId === 'number' && push.ownerId > 0 ? String(push.ownerId) : push.owner.toLowerCase(),
            name: spec.name,
            lang: spec.lang,
            image: spec.image,
            contextDigest: spec.contextDigest,
            archive,
            buildArgs: spec.buildArgs,
            contextUrl: this.parts.links.buildContext(spec.contextDigest, CONTEXT_URL_TTL_MS),
            ...(ref.platforms ? { platforms: ref.platforms } : {}),
          },
          log,
          signal,
        ),
      );
      log(`built ${result.image}${result.digest ? ` (${result.digest})` : ''}`);
      await running.stop();
      await this.parts.logs.save(buildId, lines);
      await handleCommand(
        this.backbone.store,
        functionDecider,
        streamId,
        {
          type: 'CompleteBuild',
          data: {
            ...ref,
            image: result.image,
            imageDigest: result.digest,
            builder: this.parts.builder.kind,
            durationMs: Date.now() - started,
            logRef: buildId,
            logTail: lines.lastLines(),
          },
        },
        this.metadata(job, `${context.id}:result`),
      );
      return { done: true };
    } catch (error) {
      await running.stop();
      if (signal.aborted) return { done: false, retryAfterMs: 0, error: 'interrupted by shutdown' };
      if (error instanceof BuildFailure) return this.fail(job, context, ref, error.message, lines, started);
      log(`build infrastructure error: ${(error as Error).message}`);
      this.logger.error(`build ${spec.name}@${push.sha.slice(0, 7)} attempt ${context.attempts}: ${(error as Error).message}`);
      if (context.attempts < MAX_ATTEMPTS) {
        await this.parts.logs.save(buildId, lines);
        return { done: false, retryAfterMs: jobRetryAfterMs(context.attempts), error: (error as Error).message };
      }
      return this.fail(job, context, ref, 'the builder failed; the build log has the details', lines, started);
    } finally {
      await releaseOwnerPlace();
    }
  }

  private async fail(
    job: PipelineJob<Build>,
    context: { id: string },
    ref: BuildRef,
    reason: string,
    lines: BuildLog,
    started: number,
  ): Promise<StepOutcome> {
    lines.push(`${new Date().toISOString()} build failed: ${reason}`);
    await this.parts.logs.save(ref.buildId, lines);
    await handleCommand(
      this.backbone.store,
      functionDecider,
      streamIds.function(ref.name),
      { type: 'FailBuild', data: { ...ref, reason, durationMs: Date.now() - started, logRef: ref.buildId, logTail: lines.lastLines() } },
      this.metadata(job, `${context.id}:result`),
    );
    return { done: true };
  }

  /** The earlier image of this context, if the builder has since evicted it: then it is built again, not reused. */
  private async goneImages(streamId: StreamId<FunctionEvent>, contextDigest: string): Promise<string[]> {
    const holds = this.parts.builder.holds?.bind(this.parts.builder);
    if (!holds) return [];
    const earlier = (await readState(this.backbone.store, functionDecider, streamId)).state.images.get(contextDigest);
    return earlier && !(await holds(earlier.image)) ? [earlier.image] : [];
  }

  /** A build's events are its push's (the job's correlation): only those are read, however long the function's history. */
  private async recordedFor(streamId: StreamId<FunctionEvent>, buildId: string, correlationId: string): Promise<FunctionEvent[]> {
    const { events } = await this.backbone.store.readStream(streamId, { correlationId });
    return events.filter((event) => 'buildId' in event.data && event.data.buildId === buildId);
  }
}
