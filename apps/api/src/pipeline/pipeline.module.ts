import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  anonymousCredentials,
  BuildKitBuilder,
  buildkitChannel,
  CheckRunReporter,
  CommitStatusReporter,
  GatewayClient,
  githubAppCredentials,
  LocalBuilder,
  measuredBuilder,
  PostgresSealedSecretStore,
  postgresOwnerFunctions,
  RegistryAuth,
  type SealedSecretStore,
  type SealKey,
  staticTokenCredentials,
  TemplateRegistry,
  type BuildLogStore,
  type Config,
  type ContextStore,
  type Backbone,
  type GitCredentials,
  type Logger,
} from '#infra';
import { BACKBONE, CONFIG, LOGGER } from '#kernel';
import { BUILD_LOGS, CONTEXT_STORE, GATEWAY_PASSWORD, LINKS, SANDBOX, SEAL_KEY, type SandboxChoice } from '../tokens.js';
import { BuildStep } from './build/build.step.js';
import { CollectGarbageStep } from './collect-garbage/collect-garbage.step.js';
import { DeployStep } from './deploy/deploy.step.js';
import { DiskEvictionService } from './disk-eviction/disk-eviction.service.js';
import { ExpirePreviewsService } from './expire-previews/expire-previews.service.js';
import { FetchSourceStep } from './fetch-source/fetch-source.step.js';
import { ApplySecretsStep } from './apply-secrets/apply-secrets.step.js';
import type { SourceReader } from './fetch-source/read-source.js';
import { ReadModelsModule } from '../queries/read-models.module.js';
import type { Links } from '../links/signed-links.js';
import type { PipelineParts, StepContext } from './pipeline-parts.js';
import { GIT_CREDENTIALS, OWNER_FUNCTIONS, PIPELINE_PARTS, SEALED_SECRETS, SOURCE_READER, STEP_CONTEXT } from './pipeline.tokens.js';
import { PipelineProcessManager } from './process-manager/pipeline.process-manager.js';
import { RejectFunctionStep } from './reject-function/reject-function.step.js';
import { RemoveFunctionStep } from './remove-function/remove-function.step.js';
import { ReportStatusStep } from './report-status/report-status.step.js';
import { ReportCheckRunStep } from './report-check-run/report-check-run.step.js';
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
/** Settles when the server listens (at once if it already does). */
const listening = (server: Server): Promise<void> =>
  server.listening ? Promise.resolve() : new Promise((resolve) => server.once('listening', () => resolve()));

/** A missing or malformed REGISTRY_AUTH_FILE stops the start; each build reads it again (a rotated Secret is used). */
function checkedAuthFile(path: string | null): string | null {
  if (path !== null) RegistryAuth.fromFile(path);
  return path;
}

@Module({
  imports: [BuildsModule, ReadModelsModule],
  providers: [
    { provide: GIT_CREDENTIALS, inject: [CONFIG], useFactory: gitCredentials },
    {
      provide: SOURCE_READER,
      inject: [CONFIG, GIT_CREDENTIALS, CONTEXT_STORE, SEAL_KEY, SEALED_SECRETS],
      useFactory: (
        config: Config,
        credentials: GitCredentials,
        contexts: ContextStore,
        sealKey: SealKey,
        sealedSecrets: SealedSecretStore,
      ): SourceReader => ({
        config,
        credentials,
        templates: new TemplateRegistry({
          roots: [...config.templatesDirs, BUILTIN_TEMPLATES],
          cacheDir: join(config.dataDir, 'template-cache'),
          gitAllowedHosts: config.gitAllowedHosts,
          fetchTimeoutMs: config.source.fetchTimeoutMs,
        }),
        contexts,
        sealed: { keyId: sealKey.keyId, store: sealedSecrets },
      }),
    },
    { provide: SEALED_SECRETS, inject: [BACKBONE], useFactory: (backbone: Backbone) => new PostgresSealedSecretStore(backbone.db) },
    { provide: OWNER_FUNCTIONS, inject: [BACKBONE], useFactory: (backbone: Backbone) => postgresOwnerFunctions(backbone.db) },
    {
      provide: PIPELINE_PARTS,
      inject: [CONFIG, GIT_CREDENTIALS, GATEWAY_PASSWORD, LINKS, CONTEXT_STORE, BUILD_LOGS, SANDBOX],
      useFactory: (
        config: Config,
        credentials: GitCredentials,
        gatewayPassword: string,
        links: Links,
        contexts: ContextStore,
        logs: BuildLogStore,
        sandbox: SandboxChoice,
      ): PipelineParts => ({
        config,
        builder: measuredBuilder(
          config.buildkitAddr
            ? new BuildKitBuilder(config.buildkitAddr, config.buildTimeoutMs, buildkitChannel(config.buildkitTls), {
                context: config.buildkitContext,
                registryAuthFile: checkedAuthFile(config.registryAuthFile),
              })
            : new LocalBuilder(
                join(config.dataDir, 'images'),
                join(config.dataDir, 'npm-cache'),
                { timeoutMs: config.buildTimeoutMs, pipSourceBuilds: config.pipSourceBuilds, maxBuildBytes: config.maxBuildBytes },
                sandbox.sandbox,
              ),
        ),
        logs,
        contexts,
        gateway: config.openfaasUrl
          ? new GatewayClient({ url: config.openfaasUrl, user: config.openfaasUser, password: gatewayPassword })
          : null,
        reporter: new CommitStatusReporter(credentials, config.githubApiUrl),
        checks: new CheckRunReporter(credentials, config.githubApiUrl),
        links,
      }),
    },
    {
      provide: STEP_CONTEXT,
      inject: [BACKBONE, LOGGER, PIPELINE_PARTS, HttpAdapterHost],
      useFactory: (backbone: Backbone, logger: Logger, parts: PipelineParts, http: HttpAdapterHost): StepContext => ({
        backbone,
        logger,
        parts,
        serving: listening(http.httpAdapter.getHttpServer() as Server),
      }),
    },
    FetchSourceStep,
    ApplySecretsStep,
    PipelineProcessManager,
    BuildStep,
    DeployStep,
    ReportStatusStep,
    ReportCheckRunStep,
    CollectGarbageStep,
    RemoveFunctionStep,
    RejectFunctionStep,
    DiskEvictionService,
    ExpirePreviewsService,
  ],
  exports: [SOURCE_READER, PIPELINE_PARTS],
})
export class PipelineModule {}
