// What several benches do alike: sign and deliver a GitHub push, wait for a function to answer, and take a built-in
// template as the builders do.
import { createHmac, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { TemplateRegistry } from '../dist/libs/infra/index.js';

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
