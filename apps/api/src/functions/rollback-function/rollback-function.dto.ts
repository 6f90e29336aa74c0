import { z } from 'zod';
import type { RollbackTo } from '#domain';

const COMMIT = /^[0-9a-f]{7,40}$/i;

/** `{"buildId"}` or `{"sha"}` (a full commit or 7+ characters of one), and an optional reason. */
export const rollbackBody = z
  .object({
    buildId: z.string().min(1).max(200).optional().describe('The build to go back to (`GET /api/v1/functions/{name}/builds`)'),
    sha: z
      .string()
      .regex(COMMIT, { error: 'must be a commit SHA (7 to 40 hex characters)' })
      .optional()
      .describe('Or a commit: its newest successful build of this function'),
    reason: z.string().max(500).optional().describe('Why: recorded with the event'),
  })
  .strict()
  .refine(({ buildId, sha }) => (buildId === undefined) !== (sha === undefined), { error: 'give either buildId or sha' })
  .meta({ id: 'RollbackRequestDto', description: 'buildId or sha, not both' })
  // The refinement leaves exactly one of buildId and sha.
  .transform(({ buildId, sha, reason }) => ({
    to: (sha === undefined ? { buildId: buildId! } : { sha }) satisfies RollbackTo,
    reason: reason ?? null,
  }));

const DeployedBuildDto = z.object({ buildId: z.string(), sha: z.string(), image: z.string() }).meta({ id: 'DeployedBuildDto' });

/** A rollback recorded: the earlier build's image deploys next (FunctionRolledBack, then FunctionDeployed). */
export const RollbackDto = z
  .object({
    name: z.string().meta({ example: 'alexellis-fn1' }),
    buildId: z.string().describe('The build whose image takes over again'),
    sha: z.string(),
    image: z.string(),
    from: DeployedBuildDto.describe('What ran when the rollback was asked'),
    reason: z.string().nullable(),
    actor: z.string().meta({ description: 'Who asked, as the events record it', example: 'admin:admin-token' }),
  })
  .meta({ id: 'RollbackDto' });
export type RollbackDto = z.output<typeof RollbackDto>;
