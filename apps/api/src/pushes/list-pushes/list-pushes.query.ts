import type { Audience } from '../../auth/audience.js';

export class ListPushesQuery {
  constructor(
    readonly owner: string,
    readonly repo: string,
    readonly limit: number,
    /** The position of the last push of the previous page. */
    readonly before: number | undefined,
    readonly audience: Audience,
  ) {}
}
