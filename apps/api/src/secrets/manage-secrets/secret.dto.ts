import { z } from 'zod';
import { MAX_SECRET_BYTES } from '#infra';
import { dateTime } from '../../queries/openapi-schema.js';
import { PageDto } from '../../queries/page.js';

/** A secret's new value: in plain text or sealed, never both. */
export const setSecretBody = z
  .object({
    value: z
      .string({ error: 'must be a string' })
      .refine((value) => Buffer.byteLength(value, 'utf8') <= MAX_SECRET_BYTES, { error: `is over ${MAX_SECRET_BYTES / 1024} KiB` })
      .optional()
      .describe('The value in plain text (sent over TLS, sealed here, never stored or shown).'),
    sealed: z
      .string({ error: 'must be a base64 sealed value (faasline seal writes it)' })
      .optional()
      .describe("The value sealed to GET /api/v1/seal-key's key (base64), as faasline seal makes it."),
  })
  .refine(({ value, sealed }) => (value === undefined) !== (sealed === undefined), { error: 'give exactly one of value or sealed' })
  .meta({ id: 'SetSecretDto', description: 'value or sealed, not both' });

export const SecretDto = z
  .object({
    name: z.string().describe('The name functions list in stack.yml and read at /var/openfaas/secrets/<name>.'),
    secret: z.string().describe('The name on the gateway: <lowercase owner>-<name>.'),
    fingerprint: z.string().describe('sha256 of the key id and the sealed value: tells versions apart, reveals nothing of the value.'),
    updatedAt: dateTime,
    source: z.enum(['push', 'api']).describe("Set from a push's secrets.yml or through this API."),
  })
  .meta({ id: 'SecretDto' });
export type SecretDto = z.output<typeof SecretDto>;

export const SecretPageDto = PageDto(SecretDto, 'SecretPageDto');
