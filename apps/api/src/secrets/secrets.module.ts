import { Module } from '@nestjs/common';
import { GatewayClient, SECRET_HOLDERS_READ_MODEL, type Backbone, type Config, type SecretHoldersReadModel } from '#infra';
import { BACKBONE, CONFIG } from '#kernel';
import { ReadModelsModule } from '../queries/read-models.module.js';
import { GATEWAY_PASSWORD, OWNER_SECRETS } from '../tokens.js';
import { OwnerSecretsController } from './manage-secrets/owner-secrets.controller.js';
import { OwnerSecrets, reservedSecrets } from './owner-secrets.js';
import { SealKeyController } from './read-seal-key/seal-key.controller.js';

/** The sealing key anyone seals to, and owners' secrets over the API. */
@Module({
  imports: [ReadModelsModule],
  controllers: [SealKeyController, OwnerSecretsController],
  providers: [
    {
      provide: OWNER_SECRETS,
      inject: [BACKBONE, SECRET_HOLDERS_READ_MODEL, CONFIG, GATEWAY_PASSWORD],
      useFactory: (backbone: Backbone, holders: SecretHoldersReadModel, config: Config, password: string) =>
        new OwnerSecrets(
          backbone.store,
          holders,
          config.openfaasUrl ? new GatewayClient({ url: config.openfaasUrl, user: config.openfaasUser, password }) : null,
          reservedSecrets(config),
        ),
    },
  ],
})
export class SecretsApiModule {}
