import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ownerDecider, streamIds } from '#domain';
import { handleCommand, type Backbone, type OwnerTokenStore } from '#infra';
import { BACKBONE } from '#kernel';
import { OWNER_TOKENS } from '../../tokens.js';
import { RevokeOwnerTokenCommand } from './revoke-owner-token.command.js';

/**
 * Revokes a token: it stops opening the API first, then the revocation is recorded, so a crash in between errs
 * on the closed side. False when there is no such token.
 */
@CommandHandler(RevokeOwnerTokenCommand)
export class RevokeOwnerTokenHandler implements ICommandHandler<RevokeOwnerTokenCommand, boolean> {
  constructor(
    @Inject(BACKBONE) private readonly backbone: Backbone,
    @Inject(OWNER_TOKENS) private readonly tokens: OwnerTokenStore,
  ) {}

  async execute({ id, actor }: RevokeOwnerTokenCommand): Promise<boolean> {
    const token = await this.tokens.find(id);
    if (token === null) return false;
    await this.tokens.revoke(id);
    const requestId = randomUUID();
    await handleCommand(
      this.backbone.store,
      ownerDecider,
      streamIds.owner(token.owner),
      { type: 'RevokeOwnerToken', data: { owner: token.owner, tokenId: id } },
      { correlationId: requestId, causationId: requestId, actor },
    );
    return true;
  }
}
