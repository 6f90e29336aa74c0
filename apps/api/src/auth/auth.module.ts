import { Global, Module } from '@nestjs/common';
import { PostgresOwnerTokenStore, type Backbone } from '#infra';
import { BACKBONE } from '#kernel';
import { OWNER_TOKENS } from '../tokens.js';
import { CallerPipe } from './caller.js';

/** What CallerOf needs on every route that takes it: the owner tokens, beside the admin token. */
@Global()
@Module({
  providers: [
    { provide: OWNER_TOKENS, inject: [BACKBONE], useFactory: (backbone: Backbone) => new PostgresOwnerTokenStore(backbone.db) },
    CallerPipe,
  ],
  exports: [OWNER_TOKENS, CallerPipe],
})
export class AuthModule {}
