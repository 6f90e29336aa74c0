import { Body, Controller, Delete, HttpCode, HttpStatus, Inject, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { actorOf, ApiCaller, CallerOf, mayManage, type Caller } from '../../auth/caller.js';
import { ApiNotFound } from '../../queries/page.js';
import { ValidPath } from '../../queries/api-params.decorator.js';
import { functionNamePath } from '../../queries/query-params.schema.js';
import { ZodValidationPipe } from '../../queries/zod-validation.pipe.js';
import { refusalAnswer, type Requester } from '../requester.js';
import { DeleteFunctionCommand } from './delete-function.command.js';
import { deleteReason, DeletedDto, DeleteRequestDto } from './delete-function.dto.js';

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
  @ApiBody({ type: DeleteRequestDto, required: false })
  @ApiQuery({ name: 'reason', required: false })
  @ApiAcceptedResponse({ type: DeletedDto })
  @ApiNotFound()
  async delete(
    // First: who asks is checked (401/403) before what they ask.
    @CallerOf() caller: Caller,
    @ValidPath(functionNamePath) { name }: z.output<typeof functionNamePath>,
    @Body() body: unknown,
    @Query(new ZodValidationPipe(deleteReason)) query: z.output<typeof deleteReason>,
  ): Promise<DeletedDto> {
    // A DELETE usually has no body: then the query's reason, if any.
    const inBody =
      body && typeof body === 'object' && Object.keys(body).length > 0
        ? new ZodValidationPipe(deleteReason).transform(body as Record<string, unknown>)
        : {};
    const by: Requester = { actor: actorOf(caller), mayManage: (owner) => mayManage(caller, owner) };
    try {
      return await this.commands.execute<DeleteFunctionCommand, DeletedDto>(
        new DeleteFunctionCommand(name, inBody.reason ?? query.reason ?? null, by),
      );
    } catch (error) {
      throw refusalAnswer(error);
    }
  }
}
