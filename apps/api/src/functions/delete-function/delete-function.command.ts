import type { Requester } from '../requester.js';

export class DeleteFunctionCommand {
  constructor(
    readonly name: string,
    readonly reason: string | null,
    readonly by: Requester,
  ) {}
}
