import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { Backbone, Config, Logger, Sandbox } from '#infra';
import { BackboneModule, ProjectorModule } from '#projector';
import { HealthController } from './health/health.controller.js';
import { PipelineModule } from './pipeline/pipeline.module.js';
import { randomBytes } from 'node:crypto';
import { ADMIN_TOKEN, GATEWAY_PASSWORD, LINKS_SECRET, SANDBOX, WEBHOOK_SECRET, type SandboxChoice } from './tokens.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';
import { BuildsModule } from './builds/builds.module.js';
import { QueriesModule } from './queries/queries.module.js';
import { AdminModule } from './admin/admin.module.js';

export type ApiOptions = Readonly<{
  /** Keep the read models in this process too (one process on one machine). */
  withProjector: boolean;
  /** Run the pipeline steps here too; off for ingress-only instances when workers run elsewhere. */
  withPipeline: boolean;
  webhookSecret: string;
  /** Basic-auth password of the OpenFaaS gateway (OPENFAAS_PASSWORD, or the one generated for the embedded gateway). */
  gatewayPassword: string;
  adminToken: string;
  /** Key of the signed build-log and build-context links (LINKS_SECRET, or the one generated into DATA_DIR). Unset: a
   * key of this process only, so its links open nowhere else and not after a restart. */
  linksSecret?: string;
  /** Where local builds run (null: bare processes, trusted owners only). */
  sandbox?: Sandbox | null;
  /** No sandbox where tenants' code runs here: pushes build only for trusted owners (the push policy). */
  trustedOwnersOnly?: boolean;
}>;

/** The api process: webhook ingress, the pipeline steps, health; with `withProjector` also the read models. */
@Module({})
export class AppModule {
  static register(backbone: Backbone, config: Config, logger: Logger, options: ApiOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BackboneModule.register(backbone, config, logger),
        CqrsModule.forRoot({ rethrowUnhandled: true }),
        {
          module: SecretsModule,
          global: true,
          providers: [
            { provide: WEBHOOK_SECRET, useValue: options.webhookSecret },
            { provide: GATEWAY_PASSWORD, useValue: options.gatewayPassword },
            { provide: ADMIN_TOKEN, useValue: options.adminToken },
            { provide: LINKS_SECRET, useValue: options.linksSecret ?? randomBytes(32).toString('base64url') },
            { provide: SANDBOX, useValue: { sandbox: options.sandbox ?? null, trustedOwnersOnly: options.trustedOwnersOnly ?? false } satisfies SandboxChoice },
          ],
          exports: [WEBHOOK_SECRET, GATEWAY_PASSWORD, ADMIN_TOKEN, LINKS_SECRET, SANDBOX],
        },
        WebhooksModule,
        BuildsModule,
        QueriesModule,
        AdminModule,
        ...(options.withPipeline ? [PipelineModule] : []),
        ...(options.withProjector ? [ProjectorModule] : []),
      ],
      controllers: [HealthController],
    };
  }
}

@Module({})
class SecretsModule {}
