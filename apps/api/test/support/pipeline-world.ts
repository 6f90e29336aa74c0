import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Config } from '#infra';
import { provisionTestDatabase, type TestDatabase } from '../../../../libs/infra/test/support/test-database.js';
import { startFakeGitHub, type FakeGitHub } from '../../../../test/support/fake-github.js';
import { startFakeGateway, type FakeGateway } from '../../../../test/support/fake-openfaas.js';
import { gitFixtures, writeTemplates, type GitFixtures, type RepoFiles } from '../../../../test/support/git-repos.js';
import { bareEnv, deliverCommit, start } from './spawn-api.js';

export const INSTALLATION = 67049;
/** The App is installed once per GitHub account the tests push from; INSTALLATION is alexellis's. */
const installations: Readonly<Record<string, number>> = {
  alexellis: INSTALLATION,
  victim: 67050,
  'victim-x': 67051,
  alice: 67052,
  bob: 67053,
};
/** The installation whose token may post statuses to `owner`'s repositories. */
export function installationOf(owner: string): number {
  const id = installations[owner];
  if (id === undefined) throw new Error(`no App installation for ${owner} in the pipeline world: add one`);
  return id;
}
export const APP_ID = '4242';
/** The token a world started with `{ auth: 'token' }` runs with (GITHUB_TOKEN): every repository of the world. */
const STATIC_TOKEN = 'ghp_pipelineworld0000000000000000000000';

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
export async function startPipelineWorld(
  webhookSecret: string,
  kafka: Config['kafka'],
  env: Readonly<Record<string, string>> = {},
  /** `token`: faasline runs with GITHUB_TOKEN instead of as the GitHub App (statuses only, no check runs). */
  { auth = 'app' }: Readonly<{ auth?: 'app' | 'token' }> = {},
): Promise<PipelineWorld> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const database = await provisionTestDatabase();
  const git = await gitFixtures();
  const github = await startFakeGitHub({
    appId: APP_ID,
    appPublicKey: publicKey,
    installations: Object.entries(installations).map(([account, id]) => ({ id, account })),
    tokens: { [STATIC_TOKEN]: Object.keys(installations).flatMap((owner) => ['fns', 'go-fns'].map((repo) => `${owner}/${repo}`)) },
  });
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
    ...(auth === 'app'
      ? { GITHUB_APP_ID: APP_ID, GITHUB_APP_PRIVATE_KEY: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() }
      : { GITHUB_TOKEN: STATIC_TOKEN }),
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

/** Commits `files` to `owner/repo` on the world's git server and delivers the push as the installation's, which must be accepted. */
export async function pushCommit(
  world: PipelineWorld,
  webhookSecret: string,
  files: RepoFiles,
  owner = 'alexellis',
  repo = 'fns',
): Promise<{ sha: string; deliveryId: string }> {
  const sha = world.git.commit(owner, repo, files);
  const deliveryId = await deliverCommit(world.api.url, webhookSecret, world.git, { owner, repo, sha, installationId: INSTALLATION });
  return { sha, deliveryId };
}

/** The last commit status the GitHub fake took for `sha` in `context`. */
export const lastStatus = (world: PipelineWorld, sha: string, context: string) =>
  world.github.statuses.filter((s) => s.sha === sha && s.context === context).at(-1);
