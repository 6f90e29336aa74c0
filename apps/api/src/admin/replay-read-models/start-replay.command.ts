import type { Actor } from '#domain';

export class StartReplayCommand {
  constructor(readonly actor: Actor) {}
}
