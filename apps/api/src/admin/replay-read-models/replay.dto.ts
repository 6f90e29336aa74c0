import { ApiProperty } from '@nestjs/swagger';

export class ReplayStartedDto {
  @ApiProperty({ description: 'Follow it at GET /api/v1/admin/replay/{id}' }) id!: string;
}

export class ReplayDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['running', 'done', 'failed'] }) status!: 'running' | 'done' | 'failed';
  @ApiProperty({ description: 'Who started it', example: 'admin:admin-token' }) actor!: string;
  @ApiProperty({ description: 'Events the live read models held when the replay began (grows while it runs)' }) eventsTotal!: number;
  @ApiProperty({ description: 'Events folded into the rebuilt read models so far' }) eventsProcessed!: number;
  @ApiProperty({ type: String, nullable: true, description: 'Order-independent checksum of the live read models at the swap' })
  checksumBefore!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The same checksum of the rebuilt read models; equal unless event shapes or projections changed',
  })
  checksumAfter!: string | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
}
