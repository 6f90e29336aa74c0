import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { pushIdempotencyKey, repositoryDecider, streamIds } from '#domain';
import { recordDecision, type Backbone, type CustomerList } from '#infra';
import { BACKBONE, CONFIG } from '#kernel';
import type { Config } from '#infra';
import { CUSTOMERS, SANDBOX, type SandboxChoice } from '../tokens.js';
import { RecordPushCommand, type RecordOutcome } from './record-push.command.js';

/**
 * Records whether a push builds, once per push (`pushIdempotencyKey`): a redelivery or a replayed body under a
 * new delivery id is a no-op, and so is a delivery id already recorded.
 */
@CommandHandler(RecordPushCommand)
export class RecordPushHandler implements ICommandHandler<RecordPushCommand, RecordOutcome> {
  constructor(
    @Inject(BACKBONE) private readonly backbone: Backbone,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CUSTOMERS) private readonly customers: CustomerList,
    @Inject(SANDBOX) private readonly sandbox: SandboxChoice,
  ) {}

  async execute({ delivery, sender }: RecordPushCommand): Promise<RecordOutcome> {
    const policy = {
      customers: await this.customers(),
      buildBranch: this.config.buildBranch,
      previews: this.config.previews.branches && { branches: this.config.previews.branches },
      trustedOwnersOnly: this.sandbox.trustedOwnersOnly,
    };
    const result = await recordDecision(
      this.backbone.store,
      repositoryDecider,
      streamIds.repository(delivery.owner, delivery.repo),
      { type: 'RecordPush', data: { ...delivery, policy } },
      {
        correlationId: delivery.deliveryId,
        causationId: delivery.deliveryId,
        actor: `github:${sender}`,
        idempotencyKey: pushIdempotencyKey(delivery),
        firstOfCorrelation: true,
      },
    );
    return { status: result!.duplicate ? 'duplicate' : 'recorded', events: result!.events.map((event) => event.type) };
  }
}
