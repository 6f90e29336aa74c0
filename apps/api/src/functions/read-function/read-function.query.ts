import type { Audience } from '../../auth/audience.js';

export class ReadFunctionQuery {
  constructor(
    readonly name: string,
    readonly audience: Audience,
  ) {}
}
