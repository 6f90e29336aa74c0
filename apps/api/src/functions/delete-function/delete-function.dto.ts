import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { z } from 'zod';

/** An optional reason, in the body (`{"reason"}`) or the query (`?reason=`). */
export const deleteReason = z.object({ reason: z.string().max(500).optional() });

export class DeleteRequestDto {
  @ApiPropertyOptional({ description: 'Why: recorded with the event' }) reason?: string;
}

/** A deletion recorded: the function leaves the gateway next; a later push of its stack brings it back. */
export class DeletedDto {
  @ApiProperty({ example: 'alexellis-fn1' }) name!: string;
  @ApiProperty({ enum: ['removed'] }) status!: 'removed';
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
  @ApiProperty({ description: 'Who asked, as the events record it', example: 'admin:admin-token' }) actor!: string;
}
