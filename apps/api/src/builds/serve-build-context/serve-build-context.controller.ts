import { Controller, Get, Header, HttpException, HttpStatus, Inject, Param, Query, StreamableFile } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { contextTarball, type ContextStore } from '#infra';
import type { Links } from '../../links/signed-links.js';
import { CONTEXT_STORE, LINKS } from '../../tokens.js';

/**
 * `GET /internal/build-contexts/{digest}.tar.gz?expires=&token=`: where a BuildKit daemon fetches a build context.
 * The path is unguessable only with its token, which names the digest and an expiry; contexts are immutable.
 */
// BuildKit's fetch of a signed URL, not part of the public API.
@ApiExcludeController()
@Controller('internal/build-contexts')
export class ServeBuildContextController {
  constructor(
    @Inject(LINKS) private readonly links: Links,
    @Inject(CONTEXT_STORE) private readonly contexts: ContextStore,
  ) {}

  @Get(':file')
  @Header('Content-Type', 'application/gzip')
  async serve(
    @Param('file') file: string,
    @Query('expires') expires: string | undefined,
    @Query('token') token: string | undefined,
  ): Promise<StreamableFile> {
    const digest = /^(sha256:[0-9a-f]{64})\.tar\.gz$/.exec(file)?.[1];
    const check =
      digest && expires && token && /^\d{1,12}$/.test(expires) ? this.links.checkBuildContext(digest, Number(expires), token) : 'wrong';
    if (!digest || check === 'wrong') throw new HttpException({ message: 'missing or wrong build context token' }, HttpStatus.FORBIDDEN);
    if (check === 'expired')
      throw new HttpException(
        { message: `this build context link expired at ${new Date(Number(expires) * 1000).toISOString()}` },
        HttpStatus.FORBIDDEN,
      );
    const archive = await this.contexts.get(digest);
    if (!archive) throw new HttpException({ message: `no build context ${digest}` }, HttpStatus.NOT_FOUND);
    return new StreamableFile(contextTarball(archive));
  }
}
