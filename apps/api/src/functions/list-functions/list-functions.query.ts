import type { Audience } from '../../auth/audience.js';

export class ListFunctionsQuery {
  constructor(
    readonly filter: Readonly<{ owner?: string; repo?: string }>,
    readonly limit: number,
    /** The name of the last function of the previous page. */
    readonly after: string | undefined,
    readonly audience: Audience,
  ) {}
}
