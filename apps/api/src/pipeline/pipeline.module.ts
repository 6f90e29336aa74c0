import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import {
  anonymousCredentials,
  BuildKitBuilder,
  CommitStatusReporter,
  GatewayClient,
  githubAppCredentials,
  LocalBuilder,
  staticTokenCredentials,
  TemplateRegistry,
  type BuildLogStore,
  type Config,
  type ContextStore,
  type GitCredentials,
} from '#infra';
import { CONFIG } from '#projector';
import { BUILD_LOGS, CONTEXT_STORE, GATEWAY_PASSWORD, LINKS, SANDBOX, type SandboxChoice } from '../tokens.js';
import { BuildStep } from './build/build.step.js';
import { CollectGarbageStep } from './collect-garbage/collect-garbage.step.js';
import { DeployStep } from './deploy/deploy.step.js';
import { DiskEvictionService } from './disk-eviction/disk-eviction.service.js';
import { FetchSourceStep } from './fetch-source/fetch-source.step.js';
import type { SourceReader } from './fetch-source/read-source.js';
import type { Links, PipelineParts } from './pipeline-parts.js';
import { PIPELINE_PARTS, SOURCE_READER } from './pipeline.tokens.js';
import { PipelineProcessManager } from './process-manager/pipeline.process-manager.js';
import { RemoveFunctionStep } from './remove-function/remove-function.step.js';
import { ReportStatusStep } from './report-status/report-status.step.js';
import { BuildsModule } from '../builds/builds.module.js';

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
  imports: [BuildsModule],
  providers: [
    { provide: 'GIT_CREDENTIALS', inject: [CONFIG], useFactory: gitCredentials },
    {
      provide: SOURCE_READER,
      inject: [CONFIG, 'GIT_CREDENTIALS', CONTEXT_STORE],
      useFactory: (config: Config, credentials: GitCredentials, contexts: ContextStore): SourceReader => ({
        config,
        credentials,
        templates: new TemplateRegistry({
          roots: [...config.templatesDirs, BUILTIN_TEMPLATES],
          cacheDir: join(config.dataDir, 'template-cache'),
          gitAllowedHosts: config.gitAllowedHosts,
          fetchTimeoutMs: config.source.fetchTimeoutMs,
        }),
        contexts,
      }),
    },
    {
      provide: PIPELINE_PARTS,
      inject: [CONFIG, 'GIT_CREDENTIALS', GATEWAY_PASSWORD, LINKS, CONTEXT_STORE, BUILD_LOGS, SANDBOX],
      useFactory: (config: Config, credentials: GitCredentials, gatewayPassword: string, links: Links, contexts: ContextStore, logs: BuildLogStore, sandbox: SandboxChoice): PipelineParts => ({
        config,
        builder: config.buildkitAddr
          ? new BuildKitBuilder(config.buildkitAddr, config.buildTimeoutMs)
          : new LocalBuilder(join(config.dataDir, 'images'), join(config.dataDir, 'npm-cache'), { timeoutMs: config.buildTimeoutMs, pipSourceBuilds: config.pipSourceBuilds, maxBuildBytes: config.maxBuildBytes }, sandbox.sandbox),
        logs,
        contexts,
        gateway: config.openfaasUrl ? new GatewayClient({ url: config.openfaasUrl, user: config.openfaasUser, password: gatewayPassword }) : null,
        reporter: new CommitStatusReporter(credentials, config.githubApiUrl),
        links,
      }),
    },
    FetchSourceStep,
    PipelineProcessManager,
    BuildStep,
    DeployStep,
    ReportStatusStep,
    CollectGarbageStep,
    RemoveFunctionStep,
    DiskEvictionService,
  ],
  exports: [SOURCE_READER, PIPELINE_PARTS],
})
export class PipelineModule {}
