import type { Audience } from '../../auth/audience.js';

export class ReadBuildQuery {
  constructor(
    readonly id: string,
    readonly audience: Audience,
  ) {}
}
