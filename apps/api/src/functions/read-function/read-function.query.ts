import type { Audience } from '../../queries/audience.js';

export class ReadFunctionQuery {
  constructor(
    readonly name: string,
    readonly audience: Audience,
  ) {}
}
