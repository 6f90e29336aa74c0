import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar';
import { BuildFailure, type Builder, type BuildRequest, type BuildResult } from './builder.port.js';

/**
 * Embedded mode's builder: the build context becomes a content-addressed image folder under `DATA_DIR/images`,
 * which the embedded gateway runs. Equal contexts share one folder. (Dependency installs arrive with the
 * embedded gateway's templates.)
 */
export class LocalBuilder implements Builder {
  readonly kind = 'local';

  constructor(private readonly imagesDir: string) {}

  async build(request: BuildRequest, log: (line: string) => void, signal: AbortSignal): Promise<BuildResult> {
    if (request.lang === 'dockerfile') throw new BuildFailure('lang dockerfile needs BuildKit: set BUILDKIT_ADDR to build it');
    const digest = request.contextDigest;
    const folder = join(this.imagesDir, digest.replace(':', '-'));
    log(`local builder: ${request.image}`);
    if (existsSync(folder)) {
      log(`context ${digest.slice(0, 19)} already materialised`);
    } else {
      const staging = `${folder}.${randomUUID()}.tmp`;
      await mkdir(staging, { recursive: true });
      try {
        await pipeline(Readable.from(request.archive), extract({ cwd: staging, strict: true, preservePaths: false }), { signal });
        await writeFile(join(staging, 'image.json'), `${JSON.stringify({ image: request.image, contextDigest: digest, buildArgs: request.buildArgs })}\n`);
        await mkdir(this.imagesDir, { recursive: true });
        await rename(staging, folder).catch(async (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
        });
        log(`context ${digest.slice(0, 19)} materialised in ${folder}`);
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    }
    return { image: request.image, digest: `sha256:${createHash('sha256').update(folder).digest('hex')}` };
  }
}
