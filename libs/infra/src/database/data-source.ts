import { DataSource, type DataSourceOptions, type MigrationInterface } from 'typeorm';
import { EventStore1764057600000 } from './migrations/1764057600000-event-store.js';
import { Pipeline1764230400000 } from './migrations/1764230400000-pipeline.js';
import { BuildLogs1764316800000 } from './migrations/1764316800000-build-logs.js';
import { ReadModels1764403200000 } from './migrations/1764403200000-read-models.js';
import { PrivateRepositories1764489600300 } from './migrations/1764489600300-private-repositories.js';
import { FairShare1764576005000 } from './migrations/1764576005000-fair-share.js';
import { WorkflowStates1764662400000 } from './migrations/1764662400000-workflow-states.js';
import { FetchSourceByWorkflow1764748800000 } from './migrations/1764748800000-fetch-source-by-workflow.js';
import { OwnerTokens1764835200000 } from './migrations/1764835200000-owner-tokens.js';
import { SealedSecrets1764835200100 } from './migrations/1764835200100-sealed-secrets.js';
import { BuildPlatforms1764921600000 } from './migrations/1764921600000-build-platforms.js';
import { Snapshots1765008000000 } from './migrations/1765008000000-snapshots.js';
import { Sessions1765094400000 } from './migrations/1765094400000-sessions.js';
import { readModelEntities } from '../read-models/index.js';

export const eventStoreMigrations = [
  EventStore1764057600000,
  Pipeline1764230400000,
  BuildLogs1764316800000,
  ReadModels1764403200000,
  PrivateRepositories1764489600300,
  FairShare1764576005000,
  WorkflowStates1764662400000,
  FetchSourceByWorkflow1764748800000,
  OwnerTokens1764835200000,
  SealedSecrets1764835200100,
  BuildPlatforms1764921600000,
  Snapshots1765008000000,
  Sessions1765094400000,
];

export type DataSourceParts = Readonly<{
  entities?: DataSourceOptions['entities'];
  migrations?: readonly (new () => MigrationInterface)[];
  poolSize?: number;
  applicationName?: string;
}>;

/** One TypeORM DataSource per process; schema changes only through migrations, never `synchronize`. */
export async function openDataSource(url: string, parts: DataSourceParts = {}): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    entities: [...readModelEntities, ...((parts.entities as []) ?? [])],
    migrations: [...eventStoreMigrations, ...(parts.migrations ?? [])],
    migrationsRun: false,
    synchronize: false,
    logging: false,
    applicationName: parts.applicationName ?? 'faasline',
    // pg reads the URL itself too: TypeORM's own parser does not understand a unix-socket host (%2F...).
    extra: { max: parts.poolSize ?? 10, connectionString: url },
  });
  await dataSource.initialize();
  // Several processes may start together (api, projector, tests): one of them migrates at a time.
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(7166740100)');
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    // release() returns the session to the pool, so the session lock must be dropped explicitly.
    await lock.query('SELECT pg_advisory_unlock(7166740100)');
    await lock.release();
  }
  return dataSource;
}
