import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { installationDecider, streamIds } from '#domain';
import { handleCommand, type Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { RecordInstallationChangeCommand } from './record-installation-change.command.js';
import type { RecordOutcome } from './record-push.command.js';

/** App installed or uninstalled, repositories added or removed: the installation stream decides what is new. */
@CommandHandler(RecordInstallationChangeCommand)
export class RecordInstallationChangeHandler implements ICommandHandler<RecordInstallationChangeCommand, RecordOutcome> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ deliveryId, sender, change }: RecordInstallationChangeCommand): Promise<RecordOutcome> {
    const idempotencyKey = `delivery:${deliveryId}`;
    const { result } = await handleCommand(this.backbone.store, installationDecider, streamIds.installation(change.data.installationId), change, {
      correlationId: deliveryId,
      causationId: deliveryId,
      actor: `github:${sender}`,
      idempotencyKey,
    });
    // A redelivery usually changes nothing, so the decider alone cannot tell it from a new no-op delivery.
    const duplicate = result ? result.duplicate : await this.backbone.store.wasAppended(idempotencyKey);
    return { status: duplicate ? 'duplicate' : 'recorded', events: result?.events.map((event) => event.type) ?? [] };
  }
}
