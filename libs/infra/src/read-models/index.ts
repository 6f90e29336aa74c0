import { ReadAuditEntry } from './read-audit-entry.entity.js';
import { ReadBuild } from './read-build.entity.js';
import { ReadFunction } from './read-function.entity.js';
import { ReadModelReplay } from './read-model-replay.entity.js';
import { ReadPush } from './read-push.entity.js';

export { ReadAuditEntry, ReadBuild, ReadFunction, ReadModelReplay, ReadPush };

/** Every read-model entity: registered with each process's DataSource. */
export const readModelEntities = [ReadFunction, ReadBuild, ReadPush, ReadAuditEntry, ReadModelReplay];
export * from './visibility.js';
export * from './functions/functions.read-model.js';
export * from './functions/postgres.adapter.js';
export * from './builds/builds.read-model.js';
export * from './builds/postgres.adapter.js';
export * from './pushes/pushes.read-model.js';
export * from './pushes/postgres.adapter.js';
export * from './audit/audit.read-model.js';
export * from './audit/postgres.adapter.js';
export * from './secret-holders/secret-holders.read-model.js';
export * from './secret-holders/postgres.adapter.js';
