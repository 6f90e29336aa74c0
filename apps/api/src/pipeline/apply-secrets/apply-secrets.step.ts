import { Inject, Injectable } from '@nestjs/common';
import { repositoryDecider, streamIds, type PipelineCommandOf } from '#domain';
import {
  GatewayError,
  jobRetryAfterMs,
  openSealed,
  recordDecision,
  SealedSecretProblem,
  SECRET_HOLDERS_READ_MODEL,
  type SealedSecretStore,
  type SecretHoldersReadModel,
  type SealKey,
  type StepOutcome,
} from '#infra';
import { OwnerSecrets, reservedSecrets, SecretRefused } from '../../secrets/owner-secrets.js';
import { SEAL_KEY } from '../../tokens.js';
import type { StepContext } from '../pipeline-parts.js';
import { PipelineStep, STEP_OF, type PipelineJob } from '../pipeline-step.js';
import { SEALED_SECRETS, STEP_CONTEXT } from '../pipeline.tokens.js';

type ApplySecrets = PipelineCommandOf<'ApplySecrets'>;
const MAX_ATTEMPTS = 5;

/**
 * Sets a push's sealed secrets on the gateway before any of its functions builds. Every value is opened first, at
 * the last moment and only in memory, so a secrets.yml with one bad value sets none; then each is set as the owner
 * stream decides (an unchanged one is left alone). The job ends in one SecretsApplied or SecretsRejected, recorded
 * with names and fingerprints only.
 */
@Injectable()
export class ApplySecretsStep extends PipelineStep<ApplySecrets> {
  private readonly secrets: OwnerSecrets;

  constructor(
    @Inject(STEP_CONTEXT) context: StepContext,
    @Inject(SEAL_KEY) private readonly sealKey: SealKey,
    @Inject(SEALED_SECRETS) private readonly sealed: SealedSecretStore,
    @Inject(SECRET_HOLDERS_READ_MODEL) holders: SecretHoldersReadModel,
  ) {
    super(context, STEP_OF.ApplySecrets, 2);
    this.secrets = new OwnerSecrets(context.backbone.store, holders, context.parts.gateway, reservedSecrets(context.parts.config));
  }

  protected async run(job: PipelineJob<ApplySecrets>, context: { attempts: number }): Promise<StepOutcome> {
    const { push, secrets } = job.command;
    const result = { deliveryId: push.deliveryId, owner: push.owner, repo: push.repo, sha: push.sha };
    const metadata = this.metadata(job, `${STEP_OF.ApplySecrets}:${job.cause.eventId}`);
    const stream = streamIds.repository(push.owner, push.repo);
    const reject = async (reason: string) => {
      await recordDecision(
        this.backbone.store,
        repositoryDecider,
        stream,
        { type: 'RecordSecretsRejected', data: { ...result, reason } },
        metadata,
      );
      this.logger.warn(`secrets of ${push.owner}/${push.repo}@${push.sha.slice(0, 7)} refused: ${reason}`);
      return { done: true } as const;
    };
    try {
      const opened: Buffer[] = [];
      for (const secret of secrets) {
        const sealed = await this.sealed.get(secret.fingerprint);
        if (sealed === null) return await reject(`secret ${secret.name}: its sealed value is no longer stored; push again`);
        opened.push(await openSealed(secret.name, sealed, this.sealKey));
      }
      const onGateway = await this.parts.gateway?.secretNames();
      const at = new Date().toISOString();
      for (const [index, secret] of secrets.entries()) {
        await this.secrets.set(
          {
            owner: push.owner,
            ownerId: push.ownerId,
            name: secret.name,
            value: opened[index]!,
            fingerprint: secret.fingerprint,
            source: 'push',
            deliveryId: push.deliveryId,
            at,
          },
          { ...this.metadata(job, `${STEP_OF.ApplySecrets}:${job.cause.eventId}:${secret.name}`), actor: 'system:secrets' },
          onGateway,
        );
      }
    } catch (error) {
      if (error instanceof SealedSecretProblem || error instanceof SecretRefused) return await reject(error.message);
      // The gateway down or busy: try again, then fail the push rather than build it without its secrets.
      const message = error instanceof GatewayError ? error.message : 'faasline could not set the secrets; the server log has the details';
      if (!(error instanceof GatewayError)) this.logger.error(`secrets of ${push.owner}/${push.repo}: ${(error as Error).message}`);
      if (context.attempts < MAX_ATTEMPTS) return { done: false, retryAfterMs: jobRetryAfterMs(context.attempts), error: message };
      return await reject(`secrets not set: ${message}`);
    }
    await recordDecision(
      this.backbone.store,
      repositoryDecider,
      stream,
      { type: 'RecordSecretsApplied', data: { ...result, secrets } },
      metadata,
    );
    this.logger.info(
      `secrets of ${push.owner}/${push.repo}@${push.sha.slice(0, 7)}: ${secrets.map((secret) => secret.name).join(', ')} set`,
    );
    return { done: true };
  }
}
