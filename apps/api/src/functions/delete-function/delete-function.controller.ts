import { Controller, Delete, HttpCode, HttpStatus, Inject } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { actorOf, ApiCaller, CallerOf, mayManage, type Caller } from '../../auth/caller.js';
import { ValidBody, ValidPath, ValidQuery } from '../../queries/api-params.decorator.js';
import { apiSchema } from '../../queries/openapi-schema.js';
import { ApiNotFound } from '../../queries/page.js';
import { functionNamePath } from '../../queries/query-params.schema.js';
import { refusalAnswer, type Requester } from '../requester.js';
import { DeleteFunctionCommand } from './delete-function.command.js';
import { deleteReason, DeletedDto } from './delete-function.dto.js';

/** `DELETE /api/v1/functions/{name}`: remove a function from the gateway; a later push of its stack brings it back. */
@ApiTags('functions')
@Controller('api/v1/functions')
@ApiCaller()
export class DeleteFunctionController {
  constructor(@Inject(CommandBus) private readonly commands: CommandBus) {}

  @Delete(':name')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Remove a function from the gateway (admin or its owner)',
    description: 'Recorded as FunctionRemoved (reason `deleted`, with the caller and their words); deleting it again changes nothing.',
  })
  @ApiAcceptedResponse({ schema: apiSchema(DeletedDto) })
  @ApiNotFound()
  async delete(
    // First: who asks is checked (401/403) before what they ask.
    @CallerOf() caller: Caller,
    @ValidPath(functionNamePath) { name }: z.output<typeof functionNamePath>,
    // A DELETE usually has no body: then the query's reason, if any.
    @ValidBody(deleteReason) body: z.output<typeof deleteReason>,
    @ValidQuery(deleteReason) query: z.output<typeof deleteReason>,
  ): Promise<DeletedDto> {
    const by: Requester = { actor: actorOf(caller), mayManage: (owner) => mayManage(caller, owner) };
    try {
      return await this.commands.execute<DeleteFunctionCommand, DeletedDto>(
        new DeleteFunctionCommand(name, body.reason ?? query.reason ?? null, by),
      );
    } catch (error) {
      throw refusalAnswer(error);
    }
  }
}
