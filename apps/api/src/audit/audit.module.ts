import { Module } from '@nestjs/common';
import { AdminGuard } from '../auth/admin.guard.js';
import { ReadModelsModule } from '../queries/read-models.module.js';
import { ReadAuditTrailController } from './read-audit-trail/read-audit-trail.controller.js';
import { ReadAuditTrailHandler } from './read-audit-trail/read-audit-trail.handler.js';

/** `/api/v1/audit` (admin): every event, filtered. */
@Module({
  imports: [ReadModelsModule],
  controllers: [ReadAuditTrailController],
  providers: [AdminGuard, ReadAuditTrailHandler],
})
export class AuditModule {}
