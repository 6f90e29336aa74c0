import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import {
  anonymousCredentials,
  githubAppCredentials,
  PostgresContextStore,
  staticTokenCredentials,
  TemplateRegistry,
  type Backbone,
  type Config,
  type GitCredentials,
} from '#infra';
import { readFileSync } from 'node:fs';
import { BACKBONE, CONFIG } from '#projector';
import { FetchSourceStep } from './fetch-source/fetch-source.step.js';
import type { SourceReader } from './fetch-source/read-source.js';
import { SOURCE_READER } from './pipeline.tokens.js';

/** The project's own templates: `templates/` at the repository root (same depth from src and dist). */
export const BUILTIN_TEMPLATES = fileURLToPath(new URL('../../../../templates', import.meta.url));

export function gitCredentials(config: Config): GitCredentials {
  if (config.githubApp) {
    const privateKey = config.githubApp.privateKey ?? readFileSync(config.githubApp.privateKeyFile!, 'utf8');
    return githubAppCredentials({ appId: config.githubApp.appId, privateKey, apiUrl: config.githubApiUrl });
  }
  return config.githubToken ? staticTokenCredentials(config.githubToken) : anonymousCredentials;
}

/** The durable pipeline of DESIGN.md section 3; each step is a checkpointed subscriber plus a job runner. */
@Module({
  providers: [
    {
      provide: SOURCE_READER,
      inject: [CONFIG, BACKBONE],
      useFactory: (config: Config, backbone: Backbone): SourceReader => ({
        config,
        credentials: gitCredentials(config),
        templates: new TemplateRegistry({
          roots: [...config.templatesDirs, BUILTIN_TEMPLATES],
          cacheDir: join(config.dataDir, 'template-cache'),
          gitAllowedHosts: config.gitAllowedHosts,
          fetchTimeoutMs: config.source.fetchTimeoutMs,
        }),
        contexts: new PostgresContextStore(backbone.db),
      }),
    },
    FetchSourceStep,
  ],
  exports: [SOURCE_READER],
})
export class PipelineModule {}
