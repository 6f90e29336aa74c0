import { Module } from '@nestjs/common';
import {
  AUDIT_READ_MODEL,
  BUILDS_READ_MODEL,
  FUNCTIONS_READ_MODEL,
  PostgresAuditReadModel,
  PostgresBuildsReadModel,
  PostgresFunctionsReadModel,
  PostgresPushesReadModel,
  PUSHES_READ_MODEL,
  type Backbone,
} from '#infra';
import { BACKBONE } from '#kernel';

const onDatabase = <T>(adapter: new (db: Backbone['db']) => T) => ({
  inject: [BACKBONE],
  useFactory: (backbone: Backbone) => new adapter(backbone.db),
});

/** The read models the query handlers ask: ports over the tables the projector keeps. */
@Module({
  providers: [
    { provide: FUNCTIONS_READ_MODEL, ...onDatabase(PostgresFunctionsReadModel) },
    { provide: BUILDS_READ_MODEL, ...onDatabase(PostgresBuildsReadModel) },
    { provide: PUSHES_READ_MODEL, ...onDatabase(PostgresPushesReadModel) },
    { provide: AUDIT_READ_MODEL, ...onDatabase(PostgresAuditReadModel) },
  ],
  exports: [FUNCTIONS_READ_MODEL, BUILDS_READ_MODEL, PUSHES_READ_MODEL, AUDIT_READ_MODEL],
})
export class ReadModelsModule {}
