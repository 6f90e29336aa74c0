import { z } from 'zod';
import { dateTime } from '../../queries/openapi-schema.js';

export const ReplayStartedDto = z
  .object({ id: z.string().describe('Follow it at GET /api/v1/admin/replay/{id}') })
  .meta({ id: 'ReplayStartedDto' });
export type ReplayStartedDto = z.output<typeof ReplayStartedDto>;

export const ReplayDto = z
  .object({
    id: z.string(),
    status: z.enum(['running', 'done', 'failed']),
    actor: z.string().meta({ description: 'Who started it', example: 'admin:admin-token' }),
    eventsTotal: z.number().describe('Events the live read models held when the replay began (grows while it runs)'),
    eventsProcessed: z.number().describe('Events folded into the rebuilt read models so far'),
    checksumBefore: z.string().nullable().describe('Order-independent checksum of the live read models at the swap'),
    checksumAfter: z
      .string()
      .nullable()
      .describe('The same checksum of the rebuilt read models; equal unless event shapes or projections changed'),
    error: z.string().nullable(),
    startedAt: dateTime,
    finishedAt: dateTime.nullable(),
  })
  .meta({ id: 'ReplayDto' });
export type ReplayDto = z.output<typeof ReplayDto>;
