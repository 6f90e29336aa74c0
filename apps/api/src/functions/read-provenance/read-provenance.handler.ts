import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { eventColumns, ReadFunction, type Backbone, type EventRow } from '#infra';
import { BACKBONE } from '#projector';
import { eventDtoOf } from '../../audit/event.dto.js';
import type { ProvenanceDto } from './read-provenance.dto.js';
import { ReadProvenanceQuery } from './read-provenance.query.js';

/** Longer than any pipeline's chain (push → source → build → deploy); a bound, not a limit anyone meets. */
const MAX_CHAIN = 64;
const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export type Provenance = ProvenanceDto | 'unknown' | 'never-deployed';

/**
 * Follows causation from the function's current FunctionDeployed: every event's causationId is the id of the
 * event that caused it, until one names something that is not an event — the webhook delivery of the push.
 */
@QueryHandler(ReadProvenanceQuery)
export class ReadProvenanceHandler implements IQueryHandler<ReadProvenanceQuery, Provenance> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ name }: ReadProvenanceQuery): Promise<Provenance> {
    const fn = await this.backbone.db.getRepository(ReadFunction).findOneBy({ name });
    if (!fn) return 'unknown';
    if (!fn.deployEventId) return 'never-deployed';
    // Causation ids that are not UUIDs (a delivery id could be anything) end the chain instead of failing the cast.
    const rows: (EventRow & { depth: number })[] = await this.backbone.db.query(
      `WITH RECURSIVE chain AS (
         SELECT ${eventColumns('e')}, 0 AS depth FROM events e WHERE e.event_id = $1::uuid
         UNION ALL
         SELECT ${eventColumns('e')}, c.depth + 1 FROM chain c
           JOIN events e ON e.event_id = CASE WHEN c.causation_id ~ $2 THEN c.causation_id::uuid END
          WHERE c.depth < $3)
       SELECT * FROM chain ORDER BY depth`,
      [fn.deployEventId, UUID, MAX_CHAIN],
    );
    if (rows.length === 0) return 'never-deployed';
    const chain = rows.map(eventDtoOf);
    const deployed = chain[0]!.data as { sha: string; deliveryId: string };
    return { name, sha: deployed.sha, deliveryId: deployed.deliveryId, chain };
  }
}
