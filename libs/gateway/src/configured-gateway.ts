import { join } from 'node:path';
import type { Config, Logger, Sandbox } from '#infra';
import { EmbeddedGateway } from './embedded-gateway.js';

/** The embedded gateway as `npm start` and the standalone gateway run it: over DATA_DIR and its image folders. */
export const configuredGateway = (config: Config, password: string, logger: Logger, sandbox: Sandbox | null): EmbeddedGateway =>
  new EmbeddedGateway({
    dataDir: config.dataDir,
    imagesDir: join(config.dataDir, 'images'),
    user: config.openfaasUser,
    password,
    logger,
    sandbox,
    maxTimeoutMs: config.maxExecTimeoutMs,
    idleMs: config.scaleToZeroIdleMs,
  });
