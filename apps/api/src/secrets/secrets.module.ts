import { Module } from '@nestjs/common';
import { GatewayClient, type Backbone, type Config } from '#infra';
import { BACKBONE, CONFIG } from '#kernel';
import { GATEWAY_PASSWORD, OWNER_SECRETS } from '../tokens.js';
import { OwnerSecretsController } from './manage-secrets/owner-secrets.controller.js';
import { OwnerSecrets, reservedSecrets } from './owner-secrets.js';
import { SealKeyController } from './read-seal-key/seal-key.controller.js';

/** The sealing key anyone seals to, and owners' secrets over the API. */
@Module({
  controllers: [SealKeyController, OwnerSecretsController],
  providers: [
    {
      provide: OWNER_SECRETS,
      inject: [BACKBONE, CONFIG, GATEWAY_PASSWORD],
      useFactory: (backbone: Backbone, config: Config, password: string) =>
        new OwnerSecrets(
          backbone,
          config.openfaasUrl ? new GatewayClient({ url: config.openfaasUrl, user: config.openfaasUser, password }) : null,
          reservedSecrets(config),
        ),
    },
  ],
})
export class SecretsApiModule {}
