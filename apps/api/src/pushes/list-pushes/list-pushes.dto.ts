import { ApiProperty } from '@nestjs/swagger';
import type { ReadPush } from '#infra';
import { PageDto } from '../../queries/page.js';

export const pushOutcomes = ['pending', 'deployed', 'failed', 'ignored'] as const;

/** One push delivery and how its pipeline ended. */
export class PushDto {
  @ApiProperty({ description: 'The X-GitHub-Delivery id' }) deliveryId!: string;
  @ApiProperty() owner!: string;
  @ApiProperty() repo!: string;
  @ApiProperty() sha!: string;
  @ApiProperty({ type: String, nullable: true, example: 'refs/heads/master' }) ref!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'master' }) branch!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) receivedAt!: string | null;
  @ApiProperty({ enum: pushOutcomes, enumName: 'PushOutcome' }) outcome!: (typeof pushOutcomes)[number];
  @ApiProperty({ type: String, nullable: true, description: 'Why the push failed or was ignored' }) reason!: string | null;
}

export class PushPage extends PageDto(PushDto, 'PushPage') {}

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
