import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { z } from 'zod';

const COMMIT = /^[0-9a-f]{7,40}$/i;

/** `{"buildId"}` or `{"sha"}` (a full commit or 7+ characters of one), and an optional reason. */
export const rollbackBody = z
  .object({
    buildId: z.string().min(1).max(200).optional(),
    sha: z.string().regex(COMMIT, { error: 'must be a commit SHA (7 to 40 hex characters)' }).optional(),
    reason: z.string().max(500).optional(),
  })
  .strict();

export class RollbackRequestDto {
  @ApiPropertyOptional({ description: 'The build to go back to (`GET /api/v1/functions/{name}/builds`)' }) buildId?: string;
  @ApiPropertyOptional({ description: 'Or a commit: its newest successful build of this function' }) sha?: string;
  @ApiPropertyOptional({ description: 'Why: recorded with the event' }) reason?: string;
}

class DeployedBuildDto {
  @ApiProperty() buildId!: string;
  @ApiProperty() sha!: string;
  @ApiProperty() image!: string;
}

/** A rollback recorded: the earlier build's image deploys next (FunctionRolledBack, then FunctionDeployed). */
export class RollbackDto {
  @ApiProperty({ example: 'alexellis-fn1' }) name!: string;
  @ApiProperty({ description: 'The build whose image takes over again' }) buildId!: string;
  @ApiProperty() sha!: string;
  @ApiProperty() image!: string;
  @ApiProperty({ type: DeployedBuildDto, description: 'What ran when the rollback was asked' }) from!: DeployedBuildDto;
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
  @ApiProperty({ description: 'Who asked, as the events record it', example: 'admin:admin-token' }) actor!: string;
}
