import { z } from 'zod';
import type { ReadPush } from '#infra';
import { dateTime } from '../../queries/openapi-schema.js';
import { PageDto } from '../../queries/page.js';

export const pushOutcomes = ['pending', 'deployed', 'failed', 'ignored'] as const;

/** One push delivery and how its pipeline ended. */
export const PushDto = z
  .object({
    deliveryId: z.string().describe('The X-GitHub-Delivery id'),
    owner: z.string(),
    repo: z.string(),
    sha: z.string(),
    ref: z.string().nullable().meta({ example: 'refs/heads/master' }),
    branch: z.string().nullable().meta({ example: 'master' }),
    receivedAt: dateTime.nullable(),
    outcome: z.enum(pushOutcomes).meta({ id: 'PushOutcome' }),
    reason: z.string().nullable().describe('Why the push failed or was ignored'),
  })
  .meta({ id: 'PushDto' });
export type PushDto = z.output<typeof PushDto>;

export const PushPage = PageDto(PushDto, 'PushPage');

export const toPushDto = (row: ReadPush): PushDto => ({
  deliveryId: row.deliveryId,
  owner: row.owner,
  repo: row.repo,
  sha: row.sha,
  ref: row.ref,
  branch: row.branch,
  receivedAt: row.receivedAt?.toISOString() ?? null,
  outcome: row.outcome,
  reason: row.reason,
});
