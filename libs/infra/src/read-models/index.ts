import { ReadAuditEntry } from './read-audit-entry.entity.js';
import { ReadBuild } from './read-build.entity.js';
import { ReadFunction } from './read-function.entity.js';
import { ReadModelReplay } from './read-model-replay.entity.js';
import { ReadPush } from './read-push.entity.js';

export { ReadAuditEntry, ReadBuild, ReadFunction, ReadModelReplay, ReadPush };

/** Every read-model entity: registered with each process's DataSource. */
export const readModelEntities = [ReadFunction, ReadBuild, ReadPush, ReadAuditEntry, ReadModelReplay];
