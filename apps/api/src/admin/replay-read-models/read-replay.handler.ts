import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { ReadModelReplayer, ReplayReport } from '#projections';
import { REPLAYER } from '../admin.tokens.js';
import { ReadReplayQuery } from './read-replay.query.js';

@QueryHandler(ReadReplayQuery)
export class ReadReplayHandler implements IQueryHandler<ReadReplayQuery, ReplayReport | null> {
  constructor(@Inject(REPLAYER) private readonly replayer: ReadModelReplayer) {}

  execute({ id }: ReadReplayQuery): Promise<ReplayReport | null> {
    return this.replayer.report(id);
  }
}
