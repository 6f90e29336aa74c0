import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { SealKey } from '#infra';
import { apiSchema } from '../../queries/openapi-schema.js';
import { SEAL_KEY } from '../../tokens.js';

export const SealKeyDto = z
  .object({
    publicKey: z.string().describe("The server's X25519 public key, base64: seal secrets to it (libsodium sealed box)."),
    keyId: z.string().describe('The first 16 hex characters of sha256(public key); secrets.yml names it as keyId.'),
  })
  .meta({ id: 'SealKeyDto' });
export type SealKeyDto = z.output<typeof SealKeyDto>;

/** `GET /api/v1/seal-key`: anyone may seal a secret for this server; only the server opens it. */
@ApiTags('secrets')
@Controller('api/v1/seal-key')
export class SealKeyController {
  constructor(@Inject(SEAL_KEY) private readonly key: SealKey) {}

  @Get()
  @ApiOkResponse({ schema: apiSchema(SealKeyDto) })
  read(): SealKeyDto {
    return { publicKey: Buffer.from(this.key.publicKey).toString('base64'), keyId: this.key.keyId };
  }
}
