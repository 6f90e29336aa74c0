import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import {
  anonymousCredentials,
  BuildKitBuilder,
  BuildLogStore,
  CommitStatusReporter,
  GatewayClient,
  githubAppCredentials,
  LocalBuilder,
  PostgresContextStore,
  staticTokenCredentials,
  TemplateRegistry,
  type Backbone,
  type Config,
  type GitCredentials,
} from '#infra';
import { BACKBONE, CONFIG } from '#projector';
import { GATEWAY_PASSWORD, WEBHOOK_SECRET } from '../tokens.js';
import { BuildStep } from './build/build.step.js';
import { CollectGarbageStep } from './collect-garbage/collect-garbage.step.js';
import { DeployStep } from './deploy/deploy.step.js';
import { FetchSourceStep } from './fetch-source/fetch-source.step.js';
import type { SourceReader } from './fetch-source/read-source.js';
import { Links, type PipelineParts } from './pipeline-parts.js';
import { PIPELINE_PARTS, SOURCE_READER } from './pipeline.tokens.js';
import { PipelineProcessManager } from './process-manager/pipeline.process-manager.js';
import { ReportStatusStep } from './report-status/report-status.step.js';
import { ServeBuildContextController } from './serve-build-context/serve-build-context.controller.js';
import { ReadBuildLogController } from '../builds/read-build-log/read-build-log.controller.js';
import { ReadBuildLogHandler } from '../builds/read-build-log/read-build-log.handler.js';

/** The project's own templates: `templates/` at the repository root (same depth from src and dist). */
export const BUILTIN_TEMPLATES = fileURLToPath(new URL('../../../../templates', import.meta.url));

export function gitCredentials(config: Config): GitCredentials {
  if (config.githubApp) {
    const privateKey = config.githubApp.privateKey ?? readFileSync(config.githubApp.privateKeyFile!, 'utf8');
    return githubAppCredentials({ appId: config.githubApp.appId, privateKey, apiUrl: config.githubApiUrl });
  }
  return config.githubToken ? staticTokenCredentials(config.githubToken) : anonymousCredentials;
}

/** The durable pipeline of DESIGN.md section 3: a process manager deciding, and one job runner per step acting. */
@Module({
  controllers: [ReadBuildLogController, ServeBuildContextController],
  providers: [
    ReadBuildLogHandler,
    { provide: 'GIT_CREDENTIALS', inject: [CONFIG], useFactory: gitCredentials },
    {
      provide: SOURCE_READER,
      inject: [CONFIG, BACKBONE, 'GIT_CREDENTIALS'],
      useFactory: (config: Config, backbone: Backbone, credentials: GitCredentials): SourceReader => ({
        config,
        credentials,
        templates: new TemplateRegistry({
          roots: [...config.templatesDirs, BUILTIN_TEMPLATES],
          cacheDir: join(config.dataDir, 'template-cache'),
          gitAllowedHosts: config.gitAllowedHosts,
          fetchTimeoutMs: config.source.fetchTimeoutMs,
        }),
        contexts: new PostgresContextStore(backbone.db),
      }),
    },
    {
      provide: PIPELINE_PARTS,
      inject: [CONFIG, BACKBONE, 'GIT_CREDENTIALS', WEBHOOK_SECRET, GATEWAY_PASSWORD],
      useFactory: (config: Config, backbone: Backbone, credentials: GitCredentials, webhookSecret: string, gatewayPassword: string): PipelineParts => ({
        config,
        builder: config.buildkitAddr ? new BuildKitBuilder(config.buildkitAddr) : new LocalBuilder(join(config.dataDir, 'images'), join(config.dataDir, 'npm-cache')),
        logs: new BuildLogStore(backbone.db),
        contexts: new PostgresContextStore(backbone.db),
        gateway: config.openfaasUrl ? new GatewayClient({ url: config.openfaasUrl, user: config.openfaasUser, password: gatewayPassword }) : null,
        reporter: new CommitStatusReporter(credentials, config.githubApiUrl),
        links: Links.fromSecret(webhookSecret, config.publicUrl, config.gatewayPublicUrl),
      }),
    },
    FetchSourceStep,
    PipelineProcessManager,
    BuildStep,
    DeployStep,
    ReportStatusStep,
    CollectGarbageStep,
  ],
  exports: [SOURCE_READER, PIPELINE_PARTS],
})
export class PipelineModule {}
