import type { Audience } from '../../auth/audience.js';

export class ListFunctionBuildsQuery {
  constructor(
    readonly name: string,
    readonly limit: number,
    /** The sort key (seq, id) of the last build of the previous page. */
    readonly before: readonly [number, string] | undefined,
    readonly audience: Audience,
  ) {}
}
