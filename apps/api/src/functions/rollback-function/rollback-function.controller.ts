import { Controller, HttpCode, HttpStatus, Inject, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiConflictResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { actorOf, ApiCaller, CallerOf, mayManage, type Caller } from '../../auth/caller.js';
import { ValidBody, ValidPath } from '../../queries/api-params.decorator.js';
import { apiSchema } from '../../queries/openapi-schema.js';
import { ApiNotFound, errorAnswer } from '../../queries/page.js';
import { functionNamePath } from '../../queries/query-params.schema.js';
import { refusalAnswer, type Requester } from '../requester.js';
import { RollBackFunctionCommand } from './rollback-function.command.js';
import { rollbackBody, RollbackDto } from './rollback-function.dto.js';

/** `POST /api/v1/functions/{name}/rollback`: an earlier successful build's image takes over again. */
@ApiTags('functions')
@Controller('api/v1/functions')
@ApiCaller()
export class RollBackFunctionController {
  constructor(@Inject(CommandBus) private readonly commands: CommandBus) {}

  @Post(':name/rollback')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Deploy an earlier successful build of this function again (admin or its owner)',
    description:
      'Recorded as FunctionRolledBack (with the caller and the reason), then deployed like that build was. Pushes received before it never replace it; the next push deploys normally.',
  })
  @ApiAcceptedResponse({ schema: apiSchema(RollbackDto) })
  @ApiNotFound()
  @ApiConflictResponse(errorAnswer('The build failed, is of another function, is running already, or its image is gone'))
  async rollBack(
    // First: who asks is checked (401/403) before what they ask.
    @CallerOf() caller: Caller,
    @ValidPath(functionNamePath) { name }: z.output<typeof functionNamePath>,
    @ValidBody(rollbackBody) { to, reason }: z.output<typeof rollbackBody>,
  ): Promise<RollbackDto> {
    const by: Requester = { actor: actorOf(caller), mayManage: (owner) => mayManage(caller, owner) };
    try {
      return await this.commands.execute<RollBackFunctionCommand, RollbackDto>(new RollBackFunctionCommand(name, to, reason, by));
    } catch (error) {
      throw refusalAnswer(error);
    }
  }
}
