import { Controller, Delete, HttpCode, HttpException, HttpStatus, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import type { Actor } from '#domain';
import { AdminActor, AdminGuard } from '../auth/admin.guard.js';
import { ApiAdmin } from '../auth/api-admin.js';
import { ValidBody } from '../queries/api-params.decorator.js';
import { apiSchema } from '../queries/openapi-schema.js';
import { errorAnswer } from '../queries/page.js';
import { IssueOwnerTokenCommand, type IssuedOwnerToken } from './issue-owner-token/issue-owner-token.command.js';
import { issueOwnerTokenBody, IssuedOwnerTokenDto } from './owner-token.dto.js';
import { RevokeOwnerTokenCommand } from './revoke-owner-token/revoke-owner-token.command.js';

/**
 * `POST /api/v1/admin/owner-tokens {"owner"}`: a token an owner manages its own things with (its secrets, its
 * functions); `DELETE /api/v1/admin/owner-tokens/{id}` revokes it. Both are recorded with the admin as actor.
 */
@ApiTags('admin')
@ApiAdmin()
@UseGuards(AdminGuard)
@Controller('api/v1/admin/owner-tokens')
export class OwnerTokensController {
  constructor(@Inject(CommandBus) private readonly commands: CommandBus) {}

  @Post()
  @ApiCreatedResponse({ schema: apiSchema(IssuedOwnerTokenDto) })
  issue(
    @ValidBody(issueOwnerTokenBody) { owner }: z.output<typeof issueOwnerTokenBody>,
    @AdminActor() actor: Actor,
  ): Promise<IssuedOwnerToken> {
    return this.commands.execute<IssueOwnerTokenCommand, IssuedOwnerToken>(new IssueOwnerTokenCommand(owner, actor));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Revoked (or already revoked)' })
  @ApiNotFoundResponse(errorAnswer())
  async revoke(@Param('id') id: string, @AdminActor() actor: Actor): Promise<void> {
    const found = await this.commands.execute<RevokeOwnerTokenCommand, boolean>(new RevokeOwnerTokenCommand(id, actor));
    if (!found) throw new HttpException({ message: `no owner token ${id}` }, HttpStatus.NOT_FOUND);
  }
}
