import { Body, Controller, Delete, HttpCode, HttpException, HttpStatus, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin.guard.js';
import { ApiAdmin } from '../auth/api-admin.js';
import { ErrorDto } from '../queries/page.js';
import { ZodValidationPipe } from '../queries/zod-validation.pipe.js';
import { IssueOwnerTokenCommand, type IssuedOwnerToken } from './issue-owner-token/issue-owner-token.command.js';
import { issueOwnerTokenBody, IssuedOwnerTokenDto, IssueOwnerTokenDto } from './owner-token.dto.js';
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
  @ApiBody({ type: IssueOwnerTokenDto })
  @ApiCreatedResponse({ type: IssuedOwnerTokenDto })
  issue(@Body(new ZodValidationPipe(issueOwnerTokenBody)) { owner }: { owner: string }): Promise<IssuedOwnerToken> {
    return this.commands.execute<IssueOwnerTokenCommand, IssuedOwnerToken>(new IssueOwnerTokenCommand(owner, 'admin:admin-token'));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Revoked (or already revoked)' })
  @ApiNotFoundResponse({ type: ErrorDto })
  async revoke(@Param('id') id: string): Promise<void> {
    const found = await this.commands.execute<RevokeOwnerTokenCommand, boolean>(new RevokeOwnerTokenCommand(id, 'admin:admin-token'));
    if (!found) throw new HttpException({ message: `no owner token ${id}` }, HttpStatus.NOT_FOUND);
  }
}
