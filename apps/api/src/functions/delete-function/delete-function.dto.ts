import { z } from 'zod';

/** An optional reason, in the body (`{"reason"}`) or the query (`?reason=`). */
export const deleteReason = z
  .object({ reason: z.string().max(500).optional().describe('Why: recorded with the event') })
  .meta({ id: 'DeleteRequestDto' });

/** A deletion recorded: the function leaves the gateway next; a later push of its stack brings it back. */
export const DeletedDto = z
  .object({
    name: z.string().meta({ example: 'alexellis-fn1' }),
    status: z.enum(['removed']),
    reason: z.string().nullable(),
    actor: z.string().meta({ description: 'Who asked, as the events record it', example: 'admin:admin-token' }),
  })
  .meta({ id: 'DeletedDto' });
export type DeletedDto = z.output<typeof DeletedDto>;
