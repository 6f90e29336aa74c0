import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ownerDecider, streamIds } from '#domain';
import { handleCommand, newOwnerToken, type Backbone, type OwnerTokenStore } from '#infra';
import { BACKBONE } from '#kernel';
import { OWNER_TOKENS } from '../../tokens.js';
import { IssueOwnerTokenCommand, type IssuedOwnerToken } from './issue-owner-token.command.js';

/**
 * A new token for an owner: recorded first, stored (as its hash) second, so a crash in between leaves a recorded
 * token that opens nothing rather than one that works unrecorded.
 */
@CommandHandler(IssueOwnerTokenCommand)
export class IssueOwnerTokenHandler implements ICommandHandler<IssueOwnerTokenCommand, IssuedOwnerToken> {
  constructor(
    @Inject(BACKBONE) private readonly backbone: Backbone,
    @Inject(OWNER_TOKENS) private readonly tokens: OwnerTokenStore,
  ) {}

  async execute({ owner, actor }: IssueOwnerTokenCommand): Promise<IssuedOwnerToken> {
    const id = randomUUID();
    const { token, sha256 } = newOwnerToken();
    await handleCommand(
      this.backbone.store,
      ownerDecider,
      streamIds.owner(owner),
      { type: 'IssueOwnerToken', data: { owner, tokenId: id } },
      { correlationId: id, causationId: id, actor },
    );
    await this.tokens.add({ id, owner, sha256, issuedBy: actor });
    return { token, owner, id };
  }
}
