import type { Audience } from '../../queries/audience.js';

export class ReadBuildQuery {
  constructor(
    readonly id: string,
    readonly audience: Audience,
  ) {}
}
