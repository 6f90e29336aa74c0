import { ApiProperty } from '@nestjs/swagger';

export const buildStatuses = ['queued', 'running', 'succeeded', 'failed', 'reused', 'superseded'] as const;

/** One build of one function for one push: `GET /api/v1/functions/{name}/builds` and `GET /api/v1/builds/{id}`. */
export class BuildDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'The function built (OpenFaaS service name)', example: 'alexellis-fn1' }) name!: string;
  @ApiProperty() owner!: string;
  @ApiProperty() repo!: string;
  @ApiProperty() sha!: string;
  @ApiProperty({ enum: buildStatuses, enumName: 'BuildStatus' }) status!: (typeof buildStatuses)[number];
  @ApiProperty({ type: String, nullable: true }) image!: string | null;
  @ApiProperty({ description: 'sha256 of the build context: equal digests build equal images' }) contextDigest!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiProperty({ type: Number, nullable: true }) durationMs!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the build failed' }) reason!: string | null;
  @ApiProperty({ description: 'The webhook delivery of the push' }) deliveryId!: string;
  @ApiProperty({ type: String, nullable: true, description: 'For a reused build: the build whose image it reused' }) reusedBuildId!:
    string | null;
  @ApiProperty({ type: String, nullable: true, description: 'For a superseded build: the newer push that replaced it' }) supersededBy!:
    string | null;
  @ApiProperty({
    type: String,
    enum: ['buildkit', 'local'],
    nullable: true,
    description: 'What built the image; null for builds recorded before faasline kept it',
  })
  builder!: 'buildkit' | 'local' | null;
  @ApiProperty({ type: String, nullable: true, description: "The registry's digest of the image, when the builder reported one" })
  imageDigest!: string | null;
  @ApiProperty({
    type: [String],
    nullable: true,
    example: ['linux/amd64', 'linux/arm64'],
    description: "The platforms the image was built for (BUILD_PLATFORMS); null: the builder's own",
  })
  platforms!: string[] | null;
}
