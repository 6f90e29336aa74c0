import type { EventType } from '#domain';

export type AuditFilter = Readonly<{
  owner?: string;
  repo?: string;
  type?: EventType;
  /** Inclusive. */
  since?: Date;
  /** Exclusive. */
  until?: Date;
  actor?: string;
  correlationId?: string;
}>;

export class ReadAuditTrailQuery {
  constructor(
    readonly filter: AuditFilter,
    readonly limit: number,
    /** The position of the last event of the previous page. */
    readonly after: number | undefined,
  ) {}
}
