import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from '@jest/globals';
import { eventually } from '../../../../libs/infra/test/support/backbones.js';
import type { GitFixtures } from '../../../../test/support/git-repos.js';
import { deliverPush, type PushFields } from '../../../../test/support/github-payloads.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const main = join(root, 'dist/apps/api/main.js');
export const bareEnv = () => {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'KAFKA_BROKERS', 'KAFKA_TOPIC', 'PORT', 'DATA_DIR']) delete env[name];
  return env;
};

/** The settings of an api on a test database and data folder that takes signed pushes of the test's git server. */
export const pushEnv = (
  database: { url: string },
  dataDir: string,
  git: { server: { url: string } },
  webhookSecret: string,
): NodeJS.ProcessEnv => ({
  ...bareEnv(),
  DATABASE_URL: database.url,
  DATA_DIR: dataDir,
  GITHUB_WEBHOOK_SECRET: webhookSecret,
  GIT_ALLOWED_HOSTS: new URL(git.server.url).host,
});

/** The settings that deploy to `gateway` (the fake OpenFaaS gateway) instead of the embedded one. */
export const gatewayEnv = (gateway: { url: string; user: string; password: string }): NodeJS.ProcessEnv => ({
  OPENFAAS_URL: gateway.url,
  OPENFAAS_USER: gateway.user,
  OPENFAAS_PASSWORD: gateway.password,
});

/**
 * Delivers the push of commit `sha` of `owner/repo` on the test git server, signed with `webhookSecret`, to the api at
 * `apiUrl`, which must accept it (202). `fields`: more of the push (installation, ids, ref).
 */
export async function deliverCommit(
  apiUrl: string,
  webhookSecret: string,
  git: Pick<GitFixtures, 'cloneUrl'>,
  fields: Omit<PushFields, 'cloneUrl'>,
): Promise<string> {
  const { deliveryId, status } = await deliverPush(apiUrl, webhookSecret, { ...fields, cloneUrl: git.cloneUrl(fields.owner, fields.repo) });
  expect(status).toBe(202);
  return deliveryId;
}

/** Starts the built api like `npm start` does and resolves with its base URL once it listens (on a free port unless `keepPort`). */
export function start(
  env: NodeJS.ProcessEnv,
  options: { keepPort?: boolean; ownProcessGroup?: boolean } = {},
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [main], {
    cwd: root,
    env: { ...env, ...(options.keepPort ? {} : { PORT: '0' }) },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Like `npm start` in a terminal: a group of its own that can be killed as a whole.
    detached: options.ownProcessGroup ?? false,
  });
  let output = '';
  return new Promise((resolve, reject) => {
    // A first start creates the embedded cluster, slow on a busy machine. One that never listens is killed, so it
    // cannot hold the DATA_DIR against the next start.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line within 120 s:\n${output}`));
    }, 120_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, output: () => output });
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening:\n${output}`)));
  });
}

export const stop = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });

/** The start-up lines after "listening" name the embedded gateway's address. */
export async function gatewayOf(api: { output: () => string }): Promise<string> {
  await eventually(async () => /OpenFaaS gateway: embedded at http/.test(api.output()), 10_000, 'the gateway line');
  return /OpenFaaS gateway: embedded at (http:\/\/\S+)/.exec(api.output())![1]!;
}
