import type { PushDelivery } from '#domain';

export type RecordOutcome = Readonly<{ status: 'recorded' | 'duplicate'; events: readonly string[] }>;

export class RecordPushCommand {
  constructor(
    readonly delivery: PushDelivery,
    readonly sender: string,
  ) {}
}
