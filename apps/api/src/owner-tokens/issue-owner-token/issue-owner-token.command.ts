import type { Actor } from '#domain';

export type IssuedOwnerToken = Readonly<{ token: string; owner: string; id: string }>;

export class IssueOwnerTokenCommand {
  constructor(
    readonly owner: string,
    readonly actor: Actor,
  ) {}
}
