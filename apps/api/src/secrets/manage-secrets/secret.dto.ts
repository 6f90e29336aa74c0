import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class SetSecretDto {
  @ApiPropertyOptional({ description: 'The value in plain text (sent over TLS, sealed here, never stored or shown).' }) value?: string;
  @ApiPropertyOptional({ description: "The value sealed to GET /api/v1/seal-key's key (base64), as faasline seal makes it." })
  sealed?: string;
}

export class SecretDto {
  @ApiProperty({ description: 'The name functions list in stack.yml and read at /var/openfaas/secrets/<name>.' }) name!: string;
  @ApiProperty({ description: 'The name on the gateway: <lowercase owner>-<name>.' }) secret!: string;
  @ApiProperty({ description: 'sha256 of the key id and the sealed value: tells versions apart, reveals nothing of the value.' })
  fingerprint!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ enum: ['push', 'api'], description: "Set from a push's secrets.yml or through this API." }) source!: 'push' | 'api';
}

export class SecretPageDto {
  @ApiProperty({ type: [SecretDto] }) items!: SecretDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}
