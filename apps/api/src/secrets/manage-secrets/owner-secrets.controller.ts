import { randomUUID } from 'node:crypto';
import { Controller, Delete, Get, HttpCode, HttpException, HttpStatus, Inject, Param, Put } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { z } from 'zod';
import { deployedSecretName } from '#domain';
import {
  GatewayError,
  openSealed,
  seal,
  sealedFingerprint,
  SealedSecretProblem,
  sealedValueProblem,
  secretNameProblem,
  type SealKey,
} from '#infra';
import { actorOf, ApiCaller, CallerOf, mayManage, type Caller } from '../../auth/caller.js';
import { GITHUB_LOGIN } from '../../owner-tokens/owner-token.dto.js';
import { ValidBody } from '../../queries/api-params.decorator.js';
import { apiSchema } from '../../queries/openapi-schema.js';
import { errorAnswer, type Page } from '../../queries/page.js';
import { OWNER_SECRETS, SEAL_KEY } from '../../tokens.js';
import { SecretRefused, type OwnerSecrets } from '../owner-secrets.js';
import { SecretDto, SecretPageDto, setSecretBody } from './secret.dto.js';

const fail = (status: HttpStatus, message: string) => new HttpException({ message }, status);

/**
 * An owner's secrets over the API (`faasline secret set|list|delete`): the admin, or the owner with one of its
 * tokens. A value is taken in plain text or sealed, set on the gateway as `<owner>-<name>`, and never answered,
 * logged or recorded: answers and events carry names and fingerprints.
 */
@ApiTags('secrets')
@ApiCaller()
@Controller('api/v1/owners/:owner/secrets')
export class OwnerSecretsController {
  constructor(
    @Inject(OWNER_SECRETS) private readonly secrets: OwnerSecrets,
    @Inject(SEAL_KEY) private readonly key: SealKey,
  ) {}

  @Get()
  @ApiOkResponse({ schema: apiSchema(SecretPageDto) })
  async list(@CallerOf() caller: Caller, @Param('owner') owner: string): Promise<Page<SecretDto>> {
    this.authorise(caller, owner);
    return { items: await this.secrets.list(owner), nextCursor: null };
  }

  @Put(':name')
  @ApiOkResponse({ schema: apiSchema(SecretDto) })
  @ApiBadRequestResponse(errorAnswer())
  @ApiConflictResponse(errorAnswer('The name is held by another owner'))
  async set(
    @CallerOf() caller: Caller,
    @Param('owner') owner: string,
    @Param('name') name: string,
    @ValidBody(setSecretBody) { value, sealed }: z.output<typeof setSecretBody>,
  ): Promise<SecretDto> {
    this.authorise(caller, owner);
    const nameProblem = secretNameProblem(name);
    if (nameProblem) throw fail(HttpStatus.BAD_REQUEST, nameProblem);
    let plain: Buffer;
    let sealedValue: string;
    if (value !== undefined) {
      plain = Buffer.from(value, 'utf8');
      // Sealed here too, so its fingerprint is of a sealed box like every other: it says nothing of the value.
      sealedValue = await seal(plain, this.key);
    } else {
      const problem = sealedValueProblem(name, sealed);
      if (problem) throw fail(HttpStatus.BAD_REQUEST, problem);
      sealedValue = sealed as string;
      try {
        plain = await openSealed(name, sealedValue, this.key);
      } catch (error) {
        if (error instanceof SealedSecretProblem) throw fail(HttpStatus.BAD_REQUEST, error.message);
        throw error;
      }
    }
    const fingerprint = sealedFingerprint(this.key.keyId, sealedValue);
    const at = new Date().toISOString();
    const requestId = randomUUID();
    try {
      await this.secrets.set(
        { owner, ownerId: null, name, value: plain, fingerprint, source: 'api', deliveryId: null, at },
        { correlationId: requestId, causationId: requestId, actor: actorOf(caller) },
      );
    } catch (error) {
      throw this.refusal(error);
    }
    return { name, secret: deployedSecretName(owner, name), fingerprint, updatedAt: at, source: 'api' };
  }

  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Deleted from the gateway' })
  @ApiNotFoundResponse(errorAnswer())
  async remove(@CallerOf() caller: Caller, @Param('owner') owner: string, @Param('name') name: string): Promise<void> {
    this.authorise(caller, owner);
    const requestId = randomUUID();
    let removed: boolean;
    try {
      removed = await this.secrets.remove(owner, name, { correlationId: requestId, causationId: requestId, actor: actorOf(caller) });
    } catch (error) {
      throw this.refusal(error);
    }
    if (!removed) throw fail(HttpStatus.NOT_FOUND, `${owner} has no secret ${name} set through faasline`);
  }

  private authorise(caller: Caller, owner: string): void {
    if (!GITHUB_LOGIN.test(owner)) throw fail(HttpStatus.BAD_REQUEST, `owner must be a GitHub login, not "${owner.slice(0, 40)}"`);
    if (!mayManage(caller, owner))
      throw fail(HttpStatus.FORBIDDEN, `this token manages the secrets of ${caller.kind === 'owner' ? caller.owner : 'nobody'} only`);
  }

  private refusal(error: unknown): Error {
    if (error instanceof SecretRefused) return fail(HttpStatus.CONFLICT, error.message);
    if (error instanceof GatewayError) return fail(HttpStatus.BAD_GATEWAY, error.message);
    return error as Error;
  }
}
