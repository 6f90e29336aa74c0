import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Config } from '#infra';
import { provisionTestDatabase, type TestDatabase } from '../../../../libs/infra/test/support/test-database.js';
import { startFakeGitHub, type FakeGitHub } from '../../../../test/support/fake-github.js';
import { startFakeGateway, type FakeGateway } from '../../../../test/support/fake-openfaas.js';
import { gitFixtures, writeTemplates, type GitFixtures } from '../../../../test/support/git-repos.js';
import { bareEnv, start } from './spawn-api.js';

export const INSTALLATION = 67049;
const APP_ID = '4242';

/** Everything a push needs to go live, end to end: the built api, git over loopback, GitHub and the gateway as strict fakes. */
export type PipelineWorld = Readonly<{
  database: TestDatabase;
  git: GitFixtures;
  github: FakeGitHub;
  gateway: FakeGateway;
  api: { child: ChildProcess; url: string };
  close: () => Promise<void>;
}>;

/** Starts the api like `npm start` with a GitHub App for installation INSTALLATION, on the embedded log or on `kafka`. */
export async function startPipelineWorld(webhookSecret: string, kafka: Config['kafka'], env: Readonly<Record<string, string>> = {}): Promise<PipelineWorld> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const database = await provisionTestDatabase();
  const git = await gitFixtures();
  const github = await startFakeGitHub({ appId: APP_ID, appPublicKey: publicKey, installations: [INSTALLATION] });
  const gateway = await startFakeGateway();
  const dataDir = mkdtempSync(join(tmpdir(), 'faasline-pipeline-'));
  const templatesDir = writeTemplates(['node20']);
  const api = await start({
    ...bareEnv(),
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    GITHUB_WEBHOOK_SECRET: webhookSecret,
    GIT_ALLOWED_HOSTS: new URL(git.server.url).host,
    TEMPLATES_DIR: templatesDir,
    REGISTRY: 'registry:5000',
    OPENFAAS_URL: gateway.url,
    OPENFAAS_USER: gateway.user,
    OPENFAAS_PASSWORD: gateway.password,
    GATEWAY_PUBLIC_URL: 'http://gateway.example',
    GITHUB_API_URL: github.url,
    GITHUB_APP_ID: APP_ID,
    GITHUB_APP_PRIVATE_KEY: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    ...(kafka ? { KAFKA_BROKERS: kafka.brokers.join(','), KAFKA_TOPIC: kafka.topic } : {}),
    ...env,
  });
  return {
    database,
    git,
    github,
    gateway,
    api,
    close: async () => {
      api.child.kill('SIGKILL');
      await git.close();
      await github.close();
      await gateway.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(templatesDir, { recursive: true, force: true });
    },
  };
}
