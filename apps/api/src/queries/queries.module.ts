import { Module } from '@nestjs/common';
import { ReadAuditTrailController } from '../audit/read-audit-trail/read-audit-trail.controller.js';
import { ReadAuditTrailHandler } from '../audit/read-audit-trail/read-audit-trail.handler.js';
import { AdminGuard } from '../auth/admin.guard.js';
import { ReadBuildController } from '../builds/read-build/read-build.controller.js';
import { ReadBuildHandler } from '../builds/read-build/read-build.handler.js';
import { ListFunctionBuildsController } from '../functions/list-function-builds/list-function-builds.controller.js';
import { ListFunctionBuildsHandler } from '../functions/list-function-builds/list-function-builds.handler.js';
import { ListFunctionsController } from '../functions/list-functions/list-functions.controller.js';
import { ListFunctionsHandler } from '../functions/list-functions/list-functions.handler.js';
import { ReadFunctionController } from '../functions/read-function/read-function.controller.js';
import { ReadFunctionHandler } from '../functions/read-function/read-function.handler.js';
import { ReadProvenanceController } from '../functions/read-provenance/read-provenance.controller.js';
import { ReadProvenanceHandler } from '../functions/read-provenance/read-provenance.handler.js';
import { ListPushesController } from '../pushes/list-pushes/list-pushes.controller.js';
import { ListPushesHandler } from '../pushes/list-pushes/list-pushes.handler.js';

/** The REST read side (`/api/v1`): each route a query on the read models, served by every api instance. */
@Module({
  controllers: [
    ListFunctionsController,
    ListFunctionBuildsController,
    ReadProvenanceController,
    ReadFunctionController,
    ReadBuildController,
    ListPushesController,
    ReadAuditTrailController,
  ],
  providers: [
    AdminGuard,
    ListFunctionsHandler,
    ReadFunctionHandler,
    ListFunctionBuildsHandler,
    ReadProvenanceHandler,
    ReadBuildHandler,
    ListPushesHandler,
    ReadAuditTrailHandler,
  ],
})
export class QueriesModule {}
