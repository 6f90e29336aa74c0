import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { repositoryDecider, rerunIdempotencyKey, streamIds } from '#domain';
import { handleCommand, type Backbone, type Config, type CustomerList } from '#infra';
import { BACKBONE, CONFIG } from '#kernel';
import { CUSTOMERS, SANDBOX, type SandboxChoice } from '../tokens.js';
import type { RecordOutcome } from './record-push.command.js';
import { RecordRerunCommand } from './record-rerun.command.js';

/**
 * Records a re-run as a new push of the same commit (its own delivery, so the push deduplication of the original
 * never swallows it), or why it is ignored. Once per check run (`rerunIdempotencyKey`), like a push once per push.
 */
@CommandHandler(RecordRerunCommand)
export class RecordRerunHandler implements ICommandHandler<RecordRerunCommand, RecordOutcome> {
  constructor(
    @Inject(BACKBONE) private readonly backbone: Backbone,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CUSTOMERS) private readonly customers: CustomerList,
    @Inject(SANDBOX) private readonly sandbox: SandboxChoice,
  ) {}

  async execute({ request }: RecordRerunCommand): Promise<RecordOutcome> {
    const key = rerunIdempotencyKey(request);
    if ((await this.backbone.store.wasCorrelated(request.deliveryId)) || (await this.backbone.store.wasAppended(key)))
      return { status: 'duplicate', events: [] };
    const policy = {
      customers: await this.customers(),
      buildBranch: this.config.buildBranch,
      trustedOwnersOnly: this.sandbox.trustedOwnersOnly,
    };
    const appId = this.config.githubApp ? Number(this.config.githubApp.appId) : null;
    const { result } = await handleCommand(
      this.backbone.store,
      repositoryDecider,
      streamIds.repository(request.owner, request.repo),
      { type: 'RecordRerun', data: { ...request, appId, policy } },
      { correlationId: request.deliveryId, causationId: request.deliveryId, actor: `github:${request.sender}`, idempotencyKey: key },
    );
    return { status: result?.duplicate ? 'duplicate' : 'recorded', events: result?.events.map((event) => event.type) ?? [] };
  }
}
