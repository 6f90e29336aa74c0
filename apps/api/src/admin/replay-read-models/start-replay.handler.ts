import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { ReadModelReplayer } from '#projections';
import { REPLAYER } from '../admin.tokens.js';
import { StartReplayCommand } from './start-replay.command.js';

@CommandHandler(StartReplayCommand)
export class StartReplayHandler implements ICommandHandler<StartReplayCommand, string> {
  constructor(@Inject(REPLAYER) private readonly replayer: ReadModelReplayer) {}

  execute({ actor }: StartReplayCommand): Promise<string> {
    return this.replayer.start(actor);
  }
}
