import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandRefused, functionDecider, streamIds } from '#domain';
import { handleCommand, readState, type Backbone } from '#infra';
import { BACKBONE } from '#kernel';
import { forbidden } from '../requester.js';
import { DeleteFunctionCommand } from './delete-function.command.js';
import type { DeletedDto } from './delete-function.dto.js';

/** Records a deletion the function decider allows; the pipeline removes the function from the gateway (FunctionRemoved → remove step). */
@CommandHandler(DeleteFunctionCommand)
export class DeleteFunctionHandler implements ICommandHandler<DeleteFunctionCommand, DeletedDto> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ name, reason, by }: DeleteFunctionCommand): Promise<DeletedDto> {
    const store = this.backbone.store;
    const streamId = streamIds.function(name);
    const { state } = await readState(store, functionDecider, streamId);
    const owner = state.deployed?.owner ?? [...state.builds.values()].at(-1)?.owner;
    if (owner === undefined) throw new CommandRefused('not-found', `no function ${name}`);
    if (!by.mayManage(owner)) throw forbidden(name);
    const requestId = randomUUID();
    await handleCommand(
      store,
      functionDecider,
      streamId,
      { type: 'Delete', data: { name, note: reason } },
      { correlationId: requestId, causationId: requestId, actor: by.actor },
    );
    return { name, status: 'removed', reason, actor: by.actor };
  }
}
