import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import {
  afterFailedDeploy,
  alreadyDeployed,
  deploymentSignature,
  fold,
  functionDecider,
  functionDeployment,
  gatewayRefusal,
  isRunning,
  MAX_LOG_LINES,
  newestPushOn,
  notReady,
  pullImage,
  readiness,
  readinessDeadline,
  repositoryDecider,
  runsImage,
  streamIds,
  type DeployAttemptFailure,
  type DeployTarget,
  type FunctionCommand,
  type FunctionState,
  type PipelineCommandOf,
  type ReplicaStatus,
} from '#domain';
import {
  buildOrigin,
  GatewayError,
  GatewayFunctionCrashed,
  handleCommand,
  readState,
  type GatewayClient,
  type OwnerFunctions,
  type StepOutcome,
} from '#infra';
import { OWNER_FUNCTIONS, STEP_CONTEXT } from '../pipeline.tokens.js';
import type { StepContext } from '../pipeline-parts.js';
import { PipelineStep, STEP_OF, type PipelineJob } from '../pipeline-step.js';

type Deploy = PipelineCommandOf<'Deploy'>;
const MAX_ATTEMPTS = 5;

/** The lock on this function's deploys was lost: another process runs them now. */
class Interrupted extends Error {}

/** The gateway cannot take the deploy (see `gatewayRefusal`): recorded as a failed deploy. */
class Refused extends Error {}

/** The gateway took the deploy but no replica of its image became available in time (see `readiness`). */
class NotReady extends Error {
  constructor(readonly observed: ReplicaStatus) {
    super('not ready');
  }
}

/**
 * Deploys a built function, one deploy per function at a time anywhere (the queue's lock key is the function
 * name). The function decider says whether it deploys: a build superseded by a newer push, or of a name held by
 * another owner or repository, is recorded and never reaches the gateway. A deploy the gateway cannot run (no
 * gateway, a missing secret or another owner's) is recorded as failed; otherwise the gateway gets it before
 * FunctionDeployed is recorded, and a re-run after a crash in between finds it there instead of deploying it twice.
 * An external gateway answers a deploy before the image runs: FunctionDeployed waits until a replica of it is
 * available (`readiness`), and one that never is fails, the version before it deployed again (`notReady`).
 */
@Injectable()
export class DeployStep extends PipelineStep<Deploy> {
  constructor(
    @Inject(STEP_CONTEXT) context: StepContext,
    @Inject(OWNER_FUNCTIONS) private readonly ownerFunctions: OwnerFunctions,
  ) {
    // Owners take turns, two deploys each at most, so one owner's large stack leaves slots for the others.
    super(context, STEP_OF.Deploy, 4, (job) => `deploy:${job.payload.command.spec.name}`, 2);
  }

  protected async run(job: PipelineJob<Deploy>, context: { id: string; attempts: number }, signal: AbortSignal): Promise<StepOutcome> {
    const { push, spec } = job.command;
    // Recorded before a crash: the gateway already has it, do not deploy it twice.
    if (await this.backbone.store.wasAppended(context.id)) return { done: true };
    const streamId = streamIds.function(spec.name);
    const { state } = await readState(this.backbone.store, functionDecider, streamId);
    // A function the owner does not run yet counts against its quota: count, deploy and record it under the owner's
    // lock, so two new functions deploying at once cannot both take the last place. Updates need no lock.
    const release = isRunning(state) ? null : await this.ownerFunctions.lock(push.owner);
    try {
      return await this.deploy(job, context, signal, state, release ? await this.ownerFunctions.deployedCount(push.owner, streamId) : 0);
    } finally {
      await release?.();
    }
  }

  private async deploy(
    job: PipelineJob<Deploy>,
    context: { id: string; attempts: number },
    signal: AbortSignal,
    state: FunctionState,
    ownerDeployed: number,
  ): Promise<StepOutcome> {
    const { push, spec, buildId, image } = job.command;
    const store = this.backbone.store;
    const streamId = streamIds.function(spec.name);
    const { state: repository } = await readState(store, repositoryDecider, streamIds.repository(push.owner, push.repo));
    const newest = newestPushOn(repository, push.branch);
    const gateway = this.parts.gateway;
    const { registry, registryPull, registryPullSecret, openfaasUrl } = this.parts.config;
    // Events keep the image as built (pushed to REGISTRY); the gateway pulls it by REGISTRY_PULL's name.
    const gatewayImage = pullImage(image, registry, registryPull);
    const signature = deploymentSignature(spec, push, gatewayImage, registryPullSecret);
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
      ...(signature === null ? {} : { deployment: createHash('sha256').update(signature).digest('hex') }),
    };
    const metadata = this.metadata(job, context.id);
    // Deploys of one function are serialised by the queue's lock, so a conflict is a build event of another push
    // landing meanwhile: the decision taken again is the same, and the gateway is not asked twice.
    let onGateway = false;
    try {
      // Only a re-run can find its own earlier deploy on the gateway, left by a process that died before recording it.
      onGateway = context.attempts > 1 && gateway !== null && alreadyDeployed(await gateway.list(), spec.name, gatewayImage, push.sha);
      // A rollback's deploy is that earlier build's own deploy, taken only while the rollback is still the last word.
      const command: FunctionCommand = job.command.rollback
        ? { type: 'DeployRollback', data: deployed }
        : {
            type: 'Deploy',
            data: {
              ...deployed,
              contextDigest: spec.contextDigest,
              newestPushSequence: newest.sequence,
              newestSha: newest.sha,
              ownerQuota: { deployed: ownerDeployed, max: this.parts.config.fairShare.maxFunctionsPerOwner },
              tookEarlier: onGateway,
              // Asked only when the events say this image runs (a gateway that fails to answer fails like a deploy).
              runningOnGateway:
                gateway !== null && runsImage(state, image) && (await gateway.status(spec.name, signal))?.image === gatewayImage,
            },
          };
      await handleCommand(store, functionDecider, streamId, command, metadata, {
        act: async ([decision]) => {
          if (decision?.type !== 'FunctionDeployed' || decision.data.alreadyRunning) return;
          if (!onGateway) {
            const refusal = gatewayRefusal(await deployTarget(gateway, spec.secrets), spec.secrets, push);
            if (refusal !== null || !gateway) throw new Refused(refusal ?? '');
            // Our lock may be gone (lost connection): then another process owns this function's deploys now.
            if (signal.aborted) throw new Interrupted();
            await gateway.deploy(functionDeployment(spec, push, gatewayImage, new Date(), registryPullSecret), signal);
            onGateway = true;
          }
          // The embedded gateway answers a deploy only once the function is healthy (or crashed, with its output).
          if (openfaasUrl !== null && gateway !== null) await this.untilReady(gateway, spec.name, gatewayImage, push.sha, signal);
        },
      });
      return { done: true };
    } catch (error) {
      // Stopped mid-deploy (shutdown, or the lock lost): an aborted gateway call is no failure of the deploy, so
      // nothing is recorded and the job runs again, finding its deploy on the gateway.
      if (error instanceof Interrupted || signal.aborted) return { done: false, retryAfterMs: 0, error: 'interrupted' };
      if (error instanceof NotReady) {
        await this.failNotReady(job, error.observed, metadata, signal);
        return { done: true };
      }
      const attempt = attemptFailure(error);
      if (attempt === null) throw error;
      const verdict = afterFailedDeploy(attempt, context.attempts, MAX_ATTEMPTS);
      if (verdict.retry) throw error;
      const failure = { name: spec.name, owner: push.owner, repo: push.repo, sha: push.sha, buildId, reason: verdict.reason };
      await handleCommand(store, functionDecider, streamId, { type: 'FailDeploy', data: failure }, metadata);
      return { done: true };
    }
  }

  /**
   * Polls the gateway until a replica of `image` is available, or throws NotReady past DEPLOY_READY_TIMEOUT. The
   * deadline counts from the deploy time the gateway keeps, so a re-run after a restart resumes the same wait.
   */
  private async untilReady(gateway: GatewayClient, name: string, image: string, sha: string, signal: AbortSignal): Promise<void> {
    let observed: ReplicaStatus = await gateway.status(name, signal);
    const deadlineMs = readinessDeadline(observed, sha, Date.now(), this.parts.config.deployReadyTimeoutMs);
    for (;;) {
      const verdict = readiness({ image, observed, deadlineMs, nowMs: Date.now() });
      if (verdict.kind === 'ready') return;
      if (verdict.kind === 'not-ready') throw new NotReady(observed);
      // Aborted with the step: a shutdown need not wait out the poll.
      await sleep(verdict.pollInMs, undefined, { signal }).catch(() => {
        throw new Interrupted();
      });
      observed = await gateway.status(name, signal);
    }
  }

  /**
   * Records a deploy that never became ready: why, the function's last log lines and, when an earlier version ran
   * and the push it came from is recorded, that version deployed again (FunctionRolledBack: its own deploy job); a
   * first deploy leaves the gateway.
   */
  private async failNotReady(
    job: PipelineJob<Deploy>,
    observed: ReplicaStatus,
    metadata: ReturnType<DeployStep['metadata']>,
    signal: AbortSignal,
  ) {
    const { push, spec, buildId, image } = job.command;
    const store = this.backbone.store;
    const streamId = streamIds.function(spec.name);
    const logs = this.parts.gateway ? await this.parts.gateway.logs(spec.name, MAX_LOG_LINES, signal) : [];
    const { events } = await store.readStream(streamId);
    const state = fold(functionDecider, events);
    const current = isRunning(state) ? state.deployed : null;
    const origin = current && (await buildOrigin(store, events, spec.name, current.buildId));
    const previous = current && { buildId: current.buildId, sha: current.sha, image: current.image };
    const timeoutMs = this.parts.config.deployReadyTimeoutMs;
    const outcome = notReady({ timeoutMs, observed, logs, previous, redeployable: origin !== null, image });
    // Before the failure is recorded: a re-run after a crash in between deploys it again, waits and removes it again.
    if (outcome.remove) await this.parts.gateway?.remove(spec.name);
    const back = outcome.rollbackTo;
    const rollback =
      back && origin ? { ...back, push: origin.push, spec: origin.spec, failed: { image, pushSequence: push.pushSequence } } : null;
    const failure = { name: spec.name, owner: push.owner, repo: push.repo, sha: push.sha, buildId, reason: outcome.reason };
    await handleCommand(
      store,
      functionDecider,
      streamId,
      { type: 'FailDeploy', data: { ...failure, logs: outcome.logs, rollback } },
      metadata,
    );
  }
}

/** A failed attempt as the deploy rules see it; null for a failure that is not the gateway's (retried as a step error). */
function attemptFailure(error: unknown): DeployAttemptFailure | null {
  if (error instanceof Refused) return { kind: 'refused', message: error.message };
  if (error instanceof GatewayFunctionCrashed) return { kind: 'crashed-at-start', exit: error.exit, output: error.output };
  if (error instanceof GatewayError)
    return error.retryable ? { kind: 'unavailable', message: error.message } : { kind: 'refused', message: error.message };
  return null;
}

/** What `gatewayRefusal` needs to know of the gateway: whether there is one and, for a function with secrets, what it holds. */
async function deployTarget(gateway: GatewayClient | null, secrets: readonly string[]): Promise<DeployTarget> {
  if (!gateway) return null;
  if (secrets.length === 0) return { secrets: [], live: [] };
  const held = await gateway.secretNames();
  const present = secrets.filter((secret) => held.has(secret));
  // A missing secret fails the deploy whoever else mounts what: the functions are listed only when all are there.
  return { secrets: present, live: present.length === secrets.length ? await gateway.list() : [] };
}
