import type { ReadPush } from '../read-push.entity.js';
import type { Audience, Slice } from '../visibility.js';

export const PUSHES_READ_MODEL = Symbol('PUSHES_READ_MODEL');

/** What the API asks about pushes. */
export interface PushesReadModel {
  /**
   * A repository's pushes, newest first (by the position of the push's own event); owner and repo match
   * case-insensitively. `before`: the position of the last push of the previous page. A push not projected yet
   * (its status arrived first from Kafka) is not listed; one of a private repository only to an admin.
   */
  ofRepository(
    owner: string,
    repo: string,
    page: Readonly<{ limit: number; before?: number; audience: Audience }>,
  ): Promise<Slice<ReadPush>>;
}
