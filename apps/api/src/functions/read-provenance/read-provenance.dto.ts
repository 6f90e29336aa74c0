import { z } from 'zod';
import { EventDto } from '../../audit/event.dto.js';

/** Why a function is at its SHA: the causation chain from its current FunctionDeployed back to the push. */
export const ProvenanceDto = z
  .object({
    name: z.string().meta({ example: 'alexellis-fn1' }),
    sha: z.string().describe('The commit deployed'),
    deliveryId: z.string().describe('The webhook delivery of the push that deployed it'),
    chain: z
      .array(EventDto)
      .describe('FunctionDeployed first, each event followed by its cause, ending at the PushReceived of the delivery'),
  })
  .meta({ id: 'ProvenanceDto' });
export type ProvenanceDto = z.output<typeof ProvenanceDto>;
