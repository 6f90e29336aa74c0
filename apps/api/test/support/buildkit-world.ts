import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { provisionTestDatabase, type TestDatabase } from '../../../../libs/infra/test/support/test-database.js';
import { startFakeBuildKit, type FakeBuildKit } from '../../../../test/support/fake-buildkit.js';
import { startFakeGateway, type FakeGateway } from '../../../../test/support/fake-openfaas.js';
import { freePort } from '../../../../test/support/free-port.js';
import { gitFixtures, writeTemplates, type GitFixtures } from '../../../../test/support/git-repos.js';
import { gatewayEnv, pushEnv } from './spawn-api.js';

/** A real registry for the fake BuildKit to push to when the run has one (npm test starts Debian's docker-registry). */
export const testRegistryUrl = process.env.TEST_REGISTRY_URL;
/** REGISTRY: where builds push; without a registry, a name that resolves nowhere. */
export const testRegistry = testRegistryUrl ? new URL(testRegistryUrl).host : 'registry.invalid:5000';

/** What a spawned api building on the fake BuildKit and deploying to the fake gateway runs against. */
export type BuildKitWorld = Readonly<{
  database: TestDatabase;
  db: DataSource;
  git: GitFixtures;
  buildkit: FakeBuildKit;
  gateway: FakeGateway;
  dataDir: string;
  templatesDir: string;
  /** The api's settings, on a port fixed up front so a restart keeps its URL (start it with `keepPort`). */
  env: NodeJS.ProcessEnv;
  close: () => Promise<void>;
}>;

export async function startBuildKitWorld(webhookSecret: string, dataDirPrefix: string): Promise<BuildKitWorld> {
  const database = await provisionTestDatabase();
  const db = await openDataSource(database.url);
  const git = await gitFixtures();
  const buildkit = await startFakeBuildKit(testRegistryUrl ? { registryUrl: testRegistryUrl } : {});
  const gateway = await startFakeGateway();
  const dataDir = mkdtempSync(join(tmpdir(), dataDirPrefix));
  const templatesDir = writeTemplates(['node20']);
  const port = await freePort();
  const env = {
    ...pushEnv(database, dataDir, git, webhookSecret),
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    TEMPLATES_DIR: templatesDir,
    REGISTRY: testRegistry,
    BUILDKIT_ADDR: buildkit.address,
    ...gatewayEnv(gateway),
  };
  return {
    database,
    db,
    git,
    buildkit,
    gateway,
    dataDir,
    templatesDir,
    env,
    close: async () => {
      await git.close();
      await buildkit.close();
      await gateway.close();
      await db.destroy();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(templatesDir, { recursive: true, force: true });
    },
  };
}
