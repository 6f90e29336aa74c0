import { Module } from '@nestjs/common';
import { IssueOwnerTokenHandler } from './issue-owner-token/issue-owner-token.handler.js';
import { OwnerTokensController } from './owner-tokens.controller.js';
import { RevokeOwnerTokenHandler } from './revoke-owner-token/revoke-owner-token.handler.js';

@Module({ controllers: [OwnerTokensController], providers: [IssueOwnerTokenHandler, RevokeOwnerTokenHandler] })
export class OwnerTokensModule {}
