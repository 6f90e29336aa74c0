import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { TemplateRegistry, type Config } from '#infra';
import { CONFIG } from '#kernel';
import { BUILTIN_TEMPLATES } from '../pipeline/pipeline.module.js';
import { ListLanguagesController } from './list-languages/list-languages.controller.js';
import { ListLanguagesHandler } from './list-languages/list-languages.handler.js';
import { LANGUAGE_TEMPLATES } from './languages.tokens.js';

/**
 * `/api/v1/languages`: the languages this server builds, from the same template folders the pipeline reads (its
 * own registry: an ingress-only api runs no pipeline, yet answers this too).
 */
@Module({
  controllers: [ListLanguagesController],
  providers: [
    {
      provide: LANGUAGE_TEMPLATES,
      inject: [CONFIG],
      useFactory: (config: Config) =>
        new TemplateRegistry({
          roots: [...config.templatesDirs, BUILTIN_TEMPLATES],
          cacheDir: join(config.dataDir, 'template-cache'),
          gitAllowedHosts: config.gitAllowedHosts,
          fetchTimeoutMs: config.source.fetchTimeoutMs,
        }),
    },
    ListLanguagesHandler,
  ],
})
export class LanguagesModule {}
