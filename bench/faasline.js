// What several benches do alike with a faasline: start one (`npm start`'s main.ts), sign and deliver a GitHub push,
// wait for a function to answer, and take a built-in template as the builders do.
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { TemplateRegistry } from '../dist/libs/infra/index.js';

const root = new URL('..', import.meta.url).pathname;

/**
 * `npm start`'s main.ts on `databaseUrl` with its own DATA_DIR, the embedded gateway and `sandbox`, whatever of the
 * bench's own environment would point it elsewhere left out; resolves once it says where it listens and how it
 * sandboxes (the last of its start-up lines).
 */
export async function startFaasline({ databaseUrl, dataDir, secret, gitHost, sandbox }) {
  const env = { ...process.env };
  for (const name of ['OPENFAAS_URL', 'OPENFAAS_PASSWORD', 'ADMIN_TOKEN', 'BUILDKIT_ADDR', 'TEMPLATES_DIR', 'KAFKA_BROKERS'])
    delete env[name];
  for (const name of ['FAASLINE_PROJECTOR', 'FAASLINE_PIPELINE']) delete env[name];
  const api = spawn(process.execPath, [join(root, 'dist/apps/api/main.js')], {
    cwd: root,
    env: {
      ...env,
      SANDBOX: sandbox,
      PORT: '0',
      GATEWAY_PORT: '0',
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      GITHUB_WEBHOOK_SECRET: secret,
      GIT_ALLOWED_HOSTS: gitHost,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = { api, output: '' };
  const { url, gatewayUrl } = await new Promise((resolve, reject) => {
    const read = (chunk) => {
      started.output += chunk;
      const listening = /listening on (http:\/\/[^\s"]+)/.exec(started.output);
      const gateway = /OpenFaaS gateway: embedded at (http:\/\/\S+)/.exec(started.output);
      if (listening && gateway && /sandbox: /.test(started.output)) resolve({ url: listening[1], gatewayUrl: gateway[1] });
    };
    api.stdout.on('data', read);
    api.stderr.on('data', read);
    api.once('exit', (code) => reject(new Error(`api exited ${code}:\n${started.output}`)));
  });
  return Object.assign(started, { url, gatewayUrl });
}

/** A push of `sha` to the `master` branch of `owner/repo`, as GitHub sends it (a public repository). */
export function pushPayload({ owner, ownerId = 1, repo, repoId = 1, sha, cloneUrl }) {
  return JSON.stringify({
    ref: 'refs/heads/master',
    before: '0'.repeat(40),
    after: sha,
    repository: {
      id: repoId,
      name: repo,
      full_name: `${owner}/${repo}`,
      private: false,
      owner: { login: owner, id: ownerId },
      clone_url: cloneUrl,
      default_branch: 'master',
    },
    pusher: { name: owner },
    sender: { login: owner },
  });
}

/** POSTs `payload` to `${url}/webhooks/github` signed with `secret`; resolves with its delivery id once answered 202. */
export async function deliverPush(url, secret, payload) {
  const deliveryId = randomUUID();
  const response = await fetch(`${url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`,
    },
    body: payload,
  });
  if (response.status !== 202) throw new Error(`push answered ${response.status}: ${await response.text()}`);
  return deliveryId;
}

/** GETs `url` until its body is `expected`; resolves with performance.now() of the first such answer. */
export async function answered(url, expected, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      last = `${response.status} ${await response.text()}`;
      if (last === `200 ${expected}`) return performance.now();
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await sleep(5);
  }
  throw new Error(`${url} did not answer "${expected}" within ${timeoutMs / 1000} s (last: ${last})`);
}

/** The built-in template `lang` as the builders take it (the node and python families assembled from their runtimes). */
export async function builtinTemplate(lang, cacheDir) {
  const root = new URL('..', import.meta.url).pathname;
  const templates = await new TemplateRegistry({
    roots: [join(root, 'templates')],
    cacheDir,
    gitAllowedHosts: [],
    fetchTimeoutMs: 1000,
  }).builtins();
  return templates.get(lang);
}
