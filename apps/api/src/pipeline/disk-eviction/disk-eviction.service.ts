import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DiskEvictor, type Config, type Logger } from '#infra';
import { CONFIG, LOGGER } from '#kernel';

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Keeps this process's build caches within MAX_IMAGES_MB and MAX_TEMPLATE_CACHE_MB: swept at start and every
 * minute. With BuildKit, images live in the registry and only the template cache is local. Staging folders left by
 * a process killed mid-build go first, at module init: Nest runs every module's init before any application
 * bootstrap, where the pipeline steps start, so no build or fetch of this process can own one yet.
 */
@Injectable()
export class DiskEvictionService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly evictor: DiskEvictor;

  constructor(@Inject(CONFIG) config: Config, @Inject(LOGGER) logger: Logger) {
    this.evictor = new DiskEvictor({
      imagesDir: join(config.dataDir, 'images'),
      templateCacheDir: join(config.dataDir, 'template-cache'),
      gatewayStateFile: join(config.dataDir, 'gateway', 'deployments.json'),
      maxImagesBytes: config.fairShare.maxImagesBytes,
      maxTemplateCacheBytes: config.fairShare.maxTemplateCacheBytes,
      logger,
    });
  }

  async onModuleInit(): Promise<void> {
    await this.evictor.removeAbandonedStaging();
  }

  onApplicationBootstrap(): void {
    this.evictor.start(SWEEP_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.evictor.stop();
  }
}
