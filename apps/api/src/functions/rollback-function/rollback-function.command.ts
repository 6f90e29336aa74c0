import type { RollbackTo } from '#domain';
import type { Requester } from '../requester.js';

export class RollBackFunctionCommand {
  constructor(
    readonly name: string,
    readonly to: RollbackTo,
    readonly reason: string | null,
    readonly by: Requester,
  ) {}
}
