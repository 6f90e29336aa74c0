import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AUDIT_READ_MODEL, FUNCTIONS_READ_MODEL, type AuditReadModel, type FunctionsReadModel } from '#infra';
import { toEventDto } from '../../audit/event.dto.js';
import type { ProvenanceDto } from './read-provenance.dto.js';
import { ReadProvenanceQuery } from './read-provenance.query.js';

export type Provenance = ProvenanceDto | 'unknown' | 'never-deployed';

/** Why a function is at its SHA: the causation chain of its current FunctionDeployed, back to the push. */
@QueryHandler(ReadProvenanceQuery)
export class ReadProvenanceHandler implements IQueryHandler<ReadProvenanceQuery, Provenance> {
  constructor(
    @Inject(FUNCTIONS_READ_MODEL) private readonly functions: FunctionsReadModel,
    @Inject(AUDIT_READ_MODEL) private readonly audit: AuditReadModel,
  ) {}

  async execute({ name }: ReadProvenanceQuery): Promise<Provenance> {
    const deployEventId = await this.functions.deployEventOf(name);
    if (deployEventId === undefined) return 'unknown';
    if (!deployEventId) return 'never-deployed';
    const chain = (await this.audit.causationChain(deployEventId)).map(toEventDto);
    if (chain.length === 0) return 'never-deployed';
    const deployed = chain[0]!.data as { sha: string; deliveryId: string };
    return { name, sha: deployed.sha, deliveryId: deployed.deliveryId, chain };
  }
}
