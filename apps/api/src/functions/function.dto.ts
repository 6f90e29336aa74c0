import { z } from 'zod';
import { isPreviewName } from '#domain';
import type { ReadFunction } from '#infra';
import { dateTime } from '../queries/openapi-schema.js';

export const functionStatuses = ['building', 'deploying', 'ready', 'failed', 'removed'] as const;

/** A function as it is now: `GET /api/v1/functions` and `GET /api/v1/functions/{name}`. */
export const FunctionDto = z
  .object({
    name: z.string().meta({ description: 'OpenFaaS service name, `<lowercase owner>-<stack key>`', example: 'alexellis-fn1' }),
    owner: z.string().meta({ example: 'alexellis' }),
    repo: z.string().meta({ example: 'fns' }),
    function: z.string().meta({ description: 'The key under `functions:` in the stack file', example: 'fn1' }),
    image: z.string().nullable().describe('The image deployed, or being built'),
    sha: z.string().describe('The commit of the newest push that touched this function'),
    branch: z.string().nullable(),
    preview: z
      .boolean()
      .describe(
        'A branch preview (PREVIEW_BRANCHES): `<owner>-<fn>-<branch slug>`, deployed from `branch` beside production; known once deployed',
      ),
    status: z.enum(functionStatuses).meta({ id: 'FunctionStatus' }),
    endpoint: z.string().nullable().describe('Where the function answers on the gateway'),
    deployedAt: dateTime.nullable(),
    reason: z.string().nullable().describe('Why the function failed or was removed'),
  })
  .meta({ id: 'FunctionDto' });
export type FunctionDto = z.output<typeof FunctionDto>;

export const toFunctionDto = (row: ReadFunction): FunctionDto => ({
  name: row.name,
  owner: row.owner,
  repo: row.repo,
  function: row.function,
  image: row.image,
  sha: row.sha,
  branch: row.branch,
  preview: row.branch !== null && isPreviewName(row.name, row.owner, row.function),
  status: row.status,
  endpoint: row.endpoint,
  deployedAt: row.deployedAt?.toISOString() ?? null,
  reason: row.reason,
});
