import { Inject, Injectable } from '@nestjs/common';
import {
  fold,
  functionDecider,
  functionDeployment,
  secretHeldByAnother,
  statusDescription,
  streamIds,
  type FunctionEvent,
  type FunctionState,
  type PipelineCommand,
  type PushReceived,
} from '#domain';
import { GatewayError, postgresOwnerFunctions, type Backbone, type Logger, type OwnerFunctions, type StepOutcome } from '#infra';
import { BACKBONE, LOGGER } from '#projector';
import { PIPELINE_PARTS } from '../pipeline.tokens.js';
import type { PipelineParts } from '../pipeline-parts.js';
import { PipelineStep, type PipelineJob } from '../pipeline-step.js';

type Deploy = Extract<PipelineCommand, { type: 'Deploy' }>;
const MAX_ATTEMPTS = 5;

/**
 * Deploys a built function, one deploy per function at a time anywhere (the queue's lock key is the function
 * name). Before touching the gateway it asks the function decider: a build superseded by a newer push, or of a
 * name held by another owner or repository, is recorded and never deployed.
 */
@Injectable()
export class DeployStep extends PipelineStep<Deploy> {
  constructor(
    @Inject(BACKBONE) backbone: Backbone,
    @Inject(LOGGER) logger: Logger,
    @Inject(PIPELINE_PARTS) private readonly parts: PipelineParts,
  ) {
    // Owners take turns, two deploys each at most, so one owner's large stack leaves slots for the others.
    super(backbone, logger, 'deploy', 4, (job) => `deploy:${job.payload.command.spec.name}`, 2);
    this.ownerFunctions = postgresOwnerFunctions(backbone.db);
  }

  private readonly ownerFunctions: OwnerFunctions;

  protected async run(job: PipelineJob<Deploy>, context: { id: string; attempts: number }, signal: AbortSignal): Promise<StepOutcome> {
    const { push, spec } = job.command;
    // Recorded before a crash: the gateway already has it, do not deploy it twice.
    if (await this.backbone.store.wasAppended(context.id)) return { done: true };
    const streamId = streamIds.function(spec.name);
    const newest = await this.newestPush(push.owner, push.repo, push.branch);
    const { events } = await this.backbone.store.readStream(streamId);
    const state = fold(functionDecider, events as unknown as FunctionEvent[]);
    // A function the owner does not run yet counts against its quota: count, deploy and record it under the owner's
    // lock, so two new functions deploying at once cannot both take the last place. Updates need no lock.
    const release = state.deployed && !state.removed ? null : await this.ownerFunctions.lock(push.owner);
    try {
      return await this.deploy(job, context, signal, state, newest, release ? await this.ownerFunctions.deployedCount(push.owner, streamId) : 0);
    } finally {
      await release?.();
    }
  }

  private async deploy(
    job: PipelineJob<Deploy>,
    context: { id: string; attempts: number },
    signal: AbortSignal,
    state: FunctionState,
    newest: { sequence: number; sha: string },
    ownerDeployed: number,
  ): Promise<StepOutcome> {
    const { push, spec, buildId, image } = job.command;
    const streamId = streamIds.function(spec.name);
    const deployed = {
      name: spec.name,
      owner: push.owner,
      repo: push.repo,
      function: spec.function,
      branch: push.branch,
      sha: push.sha,
      image,
      endpoint: this.parts.links.endpoint(spec.name),
      deliveryId: push.deliveryId,
      buildId,
      pushSequence: push.pushSequence,
      ownerId: push.ownerId,
      repositoryId: push.repositoryId,
    };
    const [decision] = functionDecider.decide(
      {
        type: 'Deploy',
        data: {
          ...deployed,
          contextDigest: spec.contextDigest,
          newestPushSequence: newest.sequence,
          newestSha: newest.sha,
          ownerQuota: { deployed: ownerDeployed, max: this.parts.config.fairShare.maxFunctionsPerOwner },
        },
      },
      state,
    );
    // No version check: deploys of one function are serialised by the queue's lock, and the build events that
    // may land meanwhile do not change what was decided. Once the gateway has the new version, the record must
    // follow it — re-deciding after a conflict could write "superseded" for what is actually running.
    const append = (event: FunctionEvent) => this.backbone.store.append(streamId, 'any', [event], this.metadata(job, context.id));
    const failed = (reason: string) => append({ type: 'DeployFailed', data: { name: spec.name, owner: push.owner, repo: push.repo, sha: push.sha, buildId, reason: statusDescription(reason) } });
    try {
      // Only a deploy decision reaches the gateway: a refusal (name held by another owner or repository) or a
      // superseded build is recorded and nothing else happens.
      if (decision!.type !== 'FunctionDeployed') {
        await append(decision!);
        return { done: true };
      }
      const gateway = this.parts.gateway;
      if (!gateway) {
        await failed('no OpenFaaS gateway to deploy to: set OPENFAAS_URL');
        return { done: true };
      }
      if (spec.secrets.length > 0) {
        const existing = await gateway.secretNames();
        const missing = spec.secrets.filter((secret) => !existing.has(secret));
        if (missing.length > 0) {
          await failed(`secret ${missing.join(', ')} is missing: create it with faas-cli secret create ${missing[0]}`);
          return { done: true };
        }
        const held = secretHeldByAnother(spec.secrets, push, await gateway.list());
        if (held) {
          await failed(`secret ${held.secret} is used by GitHub owner ${held.owner}: rename the secret in stack.yml`);
          return { done: true };
        }
      }
      // Our lock may be gone (lost connection): then another process owns this function's deploys now.
      if (signal.aborted) return { done: false, retryAfterMs: 0, error: 'interrupted' };
      await gateway.deploy(functionDeployment(spec, push, image, new Date()), signal);
      await append(decision!);
      return { done: true };
    } catch (error) {
      if (error instanceof GatewayError && (!error.retryable || context.attempts >= MAX_ATTEMPTS)) {
        await failed(error.message);
        return { done: true };
      }
      throw error;
    }
  }

  /** The newest accepted push on the branch: its place in the repository stream and its commit. */
  private async newestPush(owner: string, repo: string, branch: string): Promise<{ sequence: number; sha: string }> {
    const { events } = await this.backbone.store.readStream(streamIds.repository(owner, repo));
    let newest = { sequence: 0, sha: '' };
    for (const event of events) {
      if (event.type === 'PushReceived' && (event as unknown as PushReceived).data.branch === branch) {
        newest = { sequence: event.metadata.streamVersion, sha: (event as unknown as PushReceived).data.sha };
      }
    }
    return newest;
  }
}
