import type { AuditFilter } from '#infra';

export class ReadAuditTrailQuery {
  constructor(
    readonly filter: AuditFilter,
    readonly limit: number,
    /** The position of the last event of the previous page. */
    readonly after: number | undefined,
  ) {}
}
