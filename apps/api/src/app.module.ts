import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { sealKeyFromPrivate, type Backbone, type Config, type Logger, type Sandbox } from '#infra';
import { BackboneModule } from '#kernel';
import { ProjectorModule } from '#projections';
import { HealthModule } from './health/health.module.js';
import { PipelineModule } from './pipeline/pipeline.module.js';
import { randomBytes } from 'node:crypto';
import { ADMIN_TOKEN, GATEWAY_PASSWORD, LINKS_SECRET, SANDBOX, SEAL_KEY, WEBHOOK_SECRET, type SandboxChoice } from './tokens.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';
import { BuildsModule } from './builds/builds.module.js';
import { FunctionsModule } from './functions/functions.module.js';
import { PushesModule } from './pushes/pushes.module.js';
import { AuditModule } from './audit/audit.module.js';
import { DeliveriesModule } from './deliveries/deliveries.module.js';
import { AdminModule } from './admin/admin.module.js';
import { LanguagesModule } from './languages/languages.module.js';
import { AuthModule } from './auth/auth.module.js';
import { OwnerTokensModule } from './owner-tokens/owner-tokens.module.js';
import { SecretsApiModule } from './secrets/secrets.module.js';
import { SignInModule } from './sign-in/sign-in.module.js';

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
  /** The sealing key's private half (SEAL_PRIVATE_KEY, or the one generated into DATA_DIR), base64. Unset: a key of
   * this process only, so what was sealed to it opens nowhere else and not after a restart. */
  sealPrivateKey?: string;
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
            {
              provide: SEAL_KEY,
              useFactory: () => sealKeyFromPrivate(options.sealPrivateKey ?? randomBytes(32).toString('base64')),
            },
            {
              provide: SANDBOX,
              useValue: { sandbox: options.sandbox ?? null, trustedOwnersOnly: options.trustedOwnersOnly ?? false } satisfies SandboxChoice,
            },
          ],
          exports: [WEBHOOK_SECRET, GATEWAY_PASSWORD, ADMIN_TOKEN, LINKS_SECRET, SEAL_KEY, SANDBOX],
        },
        WebhooksModule,
        BuildsModule,
        DeliveriesModule,
        FunctionsModule,
        PushesModule,
        AuditModule,
        AdminModule,
        LanguagesModule,
        AuthModule,
        SignInModule,
        OwnerTokensModule,
        SecretsApiModule,
        HealthModule,
        ...(options.withPipeline ? [PipelineModule] : []),
        ...(options.withProjector ? [ProjectorModule] : []),
      ],
    };
  }
}

@Module({})
class SecretsModule {}
