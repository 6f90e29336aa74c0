import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const githubFixtures = join(import.meta.dirname, '../fixtures/github');

export const readFixture = (path: string) => readFileSync(join(githubFixtures, path), 'utf8');

export const signPayload = (body: string | Buffer, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** `ownerId` and `repositoryId` default to the captured delivery's GitHub ids. */
export type PushFields = Readonly<{
  owner: string;
  repo: string;
  sha: string;
  cloneUrl: string;
  ref?: string;
  private?: boolean;
  installationId?: number;
  before?: string;
  pushedAt?: number;
  ownerId?: number;
  repositoryId?: number;
}>;

let pushes = 0;

/**
 * A real captured push delivery (OpenFaaS Cloud's push-apr.json, ~8 KB) pointed at another repository and commit.
 * Each call is a new push (its own `repository.pushed_at`, as GitHub gives every push); send the same body again
 * to replay one.
 */
export function pushPayload(fields: PushFields): string {
  const payload = JSON.parse(readFixture('ofc-sample-json/push-apr.json'));
  payload.ref = fields.ref ?? 'refs/heads/master';
  payload.after = fields.sha;
  payload.before = fields.before ?? payload.before;
  payload.repository.pushed_at = fields.pushedAt ?? Math.floor(Date.now() / 1000) * 1000 + (pushes++ % 1000);
  payload.head_commit.id = fields.sha;
  payload.repository.name = fields.repo;
  payload.repository.full_name = `${fields.owner}/${fields.repo}`;
  payload.repository.owner.login = fields.owner;
  payload.repository.owner.name = fields.owner;
  payload.repository.owner.id = fields.ownerId ?? payload.repository.owner.id;
  payload.repository.id = fields.repositoryId ?? payload.repository.id;
  payload.repository.clone_url = fields.cloneUrl;
  payload.repository.private = fields.private ?? false;
  payload.installation = { id: fields.installationId ?? 67049 };
  return JSON.stringify(payload);
}

/** Delivers a signed `push` for `fields` to a running api; resolves with the delivery id and the HTTP status. */
export const deliverPush = (apiUrl: string, secret: string, fields: PushFields, deliveryId = randomUUID()) =>
  deliverPushBody(apiUrl, secret, pushPayload(fields), deliveryId);

/** Delivers `body`, byte for byte, signed as a `push`; a test that replays a delivery sends the same bytes again. */
export async function deliverPushBody(
  apiUrl: string,
  secret: string,
  body: string,
  deliveryId = randomUUID(),
): Promise<{ deliveryId: string; status: number }> {
  const response = await fetch(`${apiUrl}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': signPayload(body, secret),
    },
    body,
  });
  return { deliveryId, status: response.status };
}

export type RerequestFields = Readonly<{
  owner: string;
  repo: string;
  sha: string;
  cloneUrl: string;
  checkRunId: number;
  appId: number;
  branch?: string;
  installationId?: number;
  sender?: string;
}>;

/**
 * A `check_run` `rerequested` delivery (the re-run button), from @octokit/webhooks-examples' documented example
 * (not a recorded delivery) pointed at another repository, commit and check run. Owner and repository ids are the
 * captured push's (push-apr.json), so a re-run names the same repository as `pushPayload`'s pushes.
 */
export function checkRunRerequestedPayload(fields: RerequestFields): string {
  const payload = JSON.parse(readFixture('octokit-webhooks-examples/check_run.7.rerequested.json'));
  const push = JSON.parse(readFixture('ofc-sample-json/push-apr.json'));
  const run = payload.check_run;
  run.id = fields.checkRunId;
  run.head_sha = fields.sha;
  run.app.id = fields.appId;
  run.check_suite.app.id = fields.appId;
  run.check_suite.head_branch = fields.branch ?? 'master';
  run.check_suite.head_sha = fields.sha;
  run.check_suite.after = fields.sha;
  payload.repository.id = push.repository.id;
  payload.repository.name = fields.repo;
  payload.repository.full_name = `${fields.owner}/${fields.repo}`;
  payload.repository.owner.login = fields.owner;
  payload.repository.owner.id = push.repository.owner.id;
  payload.repository.clone_url = fields.cloneUrl;
  payload.installation = { id: fields.installationId ?? 67049 };
  payload.sender.login = fields.sender ?? 'octocat';
  return JSON.stringify(payload);
}

/** Delivers `body` signed as `event` (any event GitHub sends); resolves with the delivery id, status and answer. */
export async function deliverEvent(
  apiUrl: string,
  secret: string,
  event: string,
  body: string,
  deliveryId = randomUUID(),
): Promise<{ deliveryId: string; status: number; answer: Record<string, unknown> }> {
  const response = await fetch(`${apiUrl}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': signPayload(body, secret),
    },
    body,
  });
  return { deliveryId, status: response.status, answer: (await response.json()) as Record<string, unknown> };
}
