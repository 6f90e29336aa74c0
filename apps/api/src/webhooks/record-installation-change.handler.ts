import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { installationDecider, streamIds } from '#domain';
import { handleCommand, type Backbone } from '#infra';
import { BACKBONE } from '#kernel';
import { RecordInstallationChangeCommand } from './record-installation-change.command.js';
import type { RecordOutcome } from './record-push.command.js';

/**
 * App installed or uninstalled, repositories added or removed: the installation stream decides what is new.
 * Recorded once per signed body (`bodySha256`) and once per delivery id: a redelivery, or a captured body under
 * a new delivery id, records nothing even when the installation has changed since and the decider alone would
 * act on it again.
 */
@CommandHandler(RecordInstallationChangeCommand)
export class RecordInstallationChangeHandler implements ICommandHandler<RecordInstallationChangeCommand, RecordOutcome> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ deliveryId, bodySha256, sender, change }: RecordInstallationChangeCommand): Promise<RecordOutcome> {
    // A delivery id already recorded stays recorded, whatever body comes with it again.
    if (await this.backbone.store.wasCorrelated(deliveryId)) return { status: 'duplicate', events: [] };
    const idempotencyKey = `installation-body:${bodySha256}`;
    const { result } = await handleCommand(
      this.backbone.store,
      installationDecider,
      streamIds.installation(change.data.installationId),
      change,
      {
        correlationId: deliveryId,
        causationId: deliveryId,
        actor: `github:${sender}`,
        idempotencyKey,
      },
    );
    // A body sent again usually changes nothing, so the decider alone cannot tell it from a new no-op delivery.
    const duplicate = result ? result.duplicate : await this.backbone.store.wasAppended(idempotencyKey);
    return { status: duplicate ? 'duplicate' : 'recorded', events: result?.events.map((event) => event.type) ?? [] };
  }
}
