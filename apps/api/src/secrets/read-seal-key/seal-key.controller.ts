import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { SealKey } from '#infra';
import { SEAL_KEY } from '../../tokens.js';

export class SealKeyDto {
  @ApiProperty({ description: "The server's X25519 public key, base64: seal secrets to it (libsodium sealed box)." }) publicKey!: string;
  @ApiProperty({ description: 'The first 16 hex characters of sha256(public key); secrets.yml names it as keyId.' }) keyId!: string;
}

/** `GET /api/v1/seal-key`: anyone may seal a secret for this server; only the server opens it. */
@ApiTags('secrets')
@Controller('api/v1/seal-key')
export class SealKeyController {
  constructor(@Inject(SEAL_KEY) private readonly key: SealKey) {}

  @Get()
  @ApiOkResponse({ type: SealKeyDto })
  read(): SealKeyDto {
    return { publicKey: Buffer.from(this.key.publicKey).toString('base64'), keyId: this.key.keyId };
  }
}
