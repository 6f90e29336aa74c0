import { ApiProperty } from '@nestjs/swagger';
import { isPreviewName } from '#domain';
import type { ReadFunction } from '#infra';

export const functionStatuses = ['building', 'deploying', 'ready', 'failed', 'removed'] as const;

/** A function as it is now: `GET /api/v1/functions` and `GET /api/v1/functions/{name}`. */
export class FunctionDto {
  @ApiProperty({ description: 'OpenFaaS service name, `<lowercase owner>-<stack key>`', example: 'alexellis-fn1' }) name!: string;
  @ApiProperty({ example: 'alexellis' }) owner!: string;
  @ApiProperty({ example: 'fns' }) repo!: string;
  @ApiProperty({ description: 'The key under `functions:` in the stack file', example: 'fn1' }) function!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The image deployed, or being built' }) image!: string | null;
  @ApiProperty({ description: 'The commit of the newest push that touched this function' }) sha!: string;
  @ApiProperty({ type: String, nullable: true }) branch!: string | null;
  @ApiProperty({
    description:
      'A branch preview (PREVIEW_BRANCHES): `<owner>-<fn>-<branch slug>`, deployed from `branch` beside production; known once deployed',
  })
  preview!: boolean;
  @ApiProperty({ enum: functionStatuses, enumName: 'FunctionStatus' }) status!: (typeof functionStatuses)[number];
  @ApiProperty({ type: String, nullable: true, description: 'Where the function answers on the gateway' }) endpoint!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deployedAt!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the function failed or was removed' }) reason!: string | null;
}

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
