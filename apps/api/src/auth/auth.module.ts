import { Global, Module } from '@nestjs/common';
import { PostgresOwnerTokenStore, PostgresSessionStore, type Backbone } from '#infra';
import { BACKBONE } from '#kernel';
import { OWNER_TOKENS, SESSIONS } from '../tokens.js';
import { CallerPipe, RequestCallerPipe } from './caller.js';
import { SessionAuthenticator } from './sessions.js';

/** What CallerOf needs on every route that takes it: the owner tokens and the sessions, beside the admin token. */
@Global()
@Module({
  providers: [
    { provide: OWNER_TOKENS, inject: [BACKBONE], useFactory: (backbone: Backbone) => new PostgresOwnerTokenStore(backbone.db) },
    { provide: SESSIONS, inject: [BACKBONE], useFactory: (backbone: Backbone) => new PostgresSessionStore(backbone.db) },
    CallerPipe,
    SessionAuthenticator,
    RequestCallerPipe,
  ],
  exports: [OWNER_TOKENS, SESSIONS, CallerPipe, SessionAuthenticator, RequestCallerPipe],
})
export class AuthModule {}
