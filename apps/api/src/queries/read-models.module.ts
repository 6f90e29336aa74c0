import { Module } from '@nestjs/common';
import {
  AUDIT_READ_MODEL,
  BUILDS_READ_MODEL,
  FUNCTIONS_READ_MODEL,
  PostgresAuditReadModel,
  PostgresBuildsReadModel,
  PostgresFunctionsReadModel,
  PostgresPushesReadModel,
  PostgresSecretHoldersReadModel,
  PUSHES_READ_MODEL,
  SECRET_HOLDERS_READ_MODEL,
  type Backbone,
} from '#infra';
import { BACKBONE } from '#kernel';

const onDatabase = <T>(adapter: new (db: Backbone['db']) => T) => ({
  inject: [BACKBONE],
  useFactory: (backbone: Backbone) => new adapter(backbone.db),
});

/** The read models the handlers and steps ask: ports over the tables the projector keeps (and the event store's own). */
@Module({
  providers: [
    { provide: FUNCTIONS_READ_MODEL, ...onDatabase(PostgresFunctionsReadModel) },
    { provide: BUILDS_READ_MODEL, ...onDatabase(PostgresBuildsReadModel) },
    { provide: PUSHES_READ_MODEL, ...onDatabase(PostgresPushesReadModel) },
    { provide: AUDIT_READ_MODEL, ...onDatabase(PostgresAuditReadModel) },
    { provide: SECRET_HOLDERS_READ_MODEL, ...onDatabase(PostgresSecretHoldersReadModel) },
  ],
  exports: [FUNCTIONS_READ_MODEL, BUILDS_READ_MODEL, PUSHES_READ_MODEL, AUDIT_READ_MODEL, SECRET_HOLDERS_READ_MODEL],
})
export class ReadModelsModule {}
