import type { Actor } from '#domain';

export class RevokeOwnerTokenCommand {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {}
}
