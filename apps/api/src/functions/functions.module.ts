import { Module } from '@nestjs/common';
import { heldImages } from '#infra';
import { CONFIG } from '#kernel';
import { AdminGuard } from '../auth/admin.guard.js';
import { DeleteFunctionController } from './delete-function/delete-function.controller.js';
import { DeleteFunctionHandler } from './delete-function/delete-function.handler.js';
import { HELD_IMAGES } from './functions.tokens.js';
import { ReadModelsModule } from '../queries/read-models.module.js';
import { ListFunctionBuildsController } from './list-function-builds/list-function-builds.controller.js';
import { ListFunctionBuildsHandler } from './list-function-builds/list-function-builds.handler.js';
import { ListFunctionsController } from './list-functions/list-functions.controller.js';
import { ListFunctionsHandler } from './list-functions/list-functions.handler.js';
import { ReadFunctionController } from './read-function/read-function.controller.js';
import { ReadFunctionHandler } from './read-function/read-function.handler.js';
import { ReadProvenanceController } from './read-provenance/read-provenance.controller.js';
import { ReadProvenanceHandler } from './read-provenance/read-provenance.handler.js';
import { RollBackFunctionController } from './rollback-function/rollback-function.controller.js';
import { RollBackFunctionHandler } from './rollback-function/rollback-function.handler.js';

/** `/api/v1/functions`: functions as they are now, their builds, and why each is at its SHA; rollback and delete. */
@Module({
  imports: [ReadModelsModule],
  controllers: [
    ListFunctionsController,
    ListFunctionBuildsController,
    ReadProvenanceController,
    ReadFunctionController,
    RollBackFunctionController,
    DeleteFunctionController,
  ],
  providers: [
    AdminGuard,
    ListFunctionsHandler,
    ReadFunctionHandler,
    ListFunctionBuildsHandler,
    ReadProvenanceHandler,
    RollBackFunctionHandler,
    DeleteFunctionHandler,
    { provide: HELD_IMAGES, inject: [CONFIG], useFactory: heldImages },
  ],
})
export class FunctionsModule {}
