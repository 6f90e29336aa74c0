import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { provisionTestDatabase, type TestDatabase } from '../../../../libs/infra/test/support/test-database.js';
import { gitFixtures, type GitFixtures } from '../../../../test/support/git-repos.js';
import { gatewayOf, pushEnv, start } from './spawn-api.js';

/** A spawned api taking the test git server's pushes and deploying them to its embedded gateway. */
export type EmbeddedWorld = Readonly<{
  database: TestDatabase;
  db: DataSource;
  git: GitFixtures;
  dataDir: string;
  api: Awaited<ReturnType<typeof start>>;
  gatewayUrl: string;
  close: () => Promise<void>;
}>;

/** `env`: more settings of the api (an admin token, limits). */
export async function startEmbeddedWorld(
  webhookSecret: string,
  dataDirPrefix: string,
  env: NodeJS.ProcessEnv = {},
): Promise<EmbeddedWorld> {
  const database = await provisionTestDatabase();
  const db = await openDataSource(database.url);
  const git = await gitFixtures();
  const dataDir = mkdtempSync(join(tmpdir(), dataDirPrefix));
  const api = await start({ ...pushEnv(database, dataDir, git, webhookSecret), GATEWAY_PORT: '0', ...env });
  const gatewayUrl = await gatewayOf(api);
  return {
    database,
    db,
    git,
    dataDir,
    api,
    gatewayUrl,
    close: async () => {
      api.child.kill('SIGKILL');
      await git.close();
      await db.destroy();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
