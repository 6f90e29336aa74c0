import { Module } from '@nestjs/common';
import type { Config } from '#infra';
import { CONFIG } from '#kernel';
import { LINKS, LINKS_SECRET } from '../tokens.js';
import { Links } from './signed-links.js';

/** The signed links every instance hands out (commit statuses, BuildKit) and checks, whoever signed them. */
@Module({
  providers: [
    {
      provide: LINKS,
      inject: [CONFIG, LINKS_SECRET],
      useFactory: (config: Config, secret: string) =>
        Links.fromSecret(secret, config.publicUrl, config.gatewayPublicUrl, config.links.buildLogTtlMs),
    },
  ],
  exports: [LINKS],
})
export class LinksModule {}
