import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { streamIds } from '#domain';
import { loadConfig, openBackbone, silentLogger, type Backbone } from '#infra';
import { createApi } from '../src/api-app.js';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { githubFixtures as fixtures, readFixture as fixture, signPayload } from '../../../test/support/github-payloads.js';

const secret = "It's a Secret to Everybody";
let database: TestDatabase;
let backbone: Backbone;
let app: NestFastifyApplication;
let url: string;
let dataDir: string;

beforeAll(async () => {
  database = await provisionTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'faasline-webhooks-'));
  // Only loopback git hosts: the fixtures' github.com clone URLs must be refused by the source step, not fetched.
  const config = loadConfig({ DATABASE_URL: database.url, DATA_DIR: dataDir, GIT_ALLOWED_HOSTS: '127.0.0.1:1' });
  backbone = await openBackbone(config, silentLogger);
  app = await createApi(backbone, config, silentLogger, {
    withProjector: false,
    withPipeline: true,
    webhookSecret: secret,
    adminToken: 'admin',
    gatewayPassword: 'pw',
  });
  await backbone.log.start();
  await app.listen(0, '127.0.0.1');
  url = await app.getUrl();
});

afterAll(async () => {
  await app.close();
  await backbone.close();
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const sign = (body: string | Buffer, key = secret) => signPayload(body, key);

async function deliver(event: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const deliveryId = headers['x-github-delivery'] ?? randomUUID();
  const response = await fetch(`${url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': sign(body),
      ...headers,
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, deliveryId };
}

let pushedAt = 2_000_000_000;
/** A fixture's real bytes as a new push of the same commit: only GitHub's `repository.pushed_at` changes. */
const asNewPush = (path: string, changes: { before?: string; after?: string } = {}) => {
  let body = fixture(path).replace(/"pushed_at": \d+/, `"pushed_at": ${pushedAt++}`);
  if (changes.before) body = body.replace(/"before": "[0-9a-f]{40}"/, `"before": "${changes.before}"`);
  if (changes.after) body = body.replace(/"after": "[0-9a-f]{40}"/, `"after": "${changes.after}"`);
  return body;
};

const eventsOf = async (deliveryId: string) =>
  (await backbone.store.readAll(0, 10_000)).filter((event) => event.metadata.correlationId === deliveryId);

describe('POST /webhooks/github with every GitHub fixture', () => {
  // The octokit examples hold one push to a tag and one to master several times over (same repository id, ref,
  // SHAs and pushed_at; other fields vary), so their copies are what a replayed push looks like: recorded once.
  const expectations: Record<string, { status: number; events: string[]; reason?: RegExp; body?: Record<string, unknown> }> = {
    'octokit-webhooks-examples/push.0.created-tags_simple-tag.json': {
      status: 202,
      events: ['PushIgnored'],
      reason: /tag push simple-tag/,
    },
    'octokit-webhooks-examples/push.1.deleted-tags_simple-tag.json': { status: 202, events: ['PushIgnored'], reason: /tag push/ },
    'octokit-webhooks-examples/push.2.deleted-tags_simple-tag.json': { status: 200, events: [] }, // push.1 again
    'octokit-webhooks-examples/push.3.deleted-tags_simple-tag.json': { status: 200, events: [] }, // push.1 again
    'octokit-webhooks-examples/push.4.created-heads_master.json': { status: 202, events: ['PushReceived'] },
    'octokit-webhooks-examples/push.5.created-heads_master.json': { status: 200, events: [] }, // push.4 again
    'octokit-webhooks-examples/push.6.deleted-tags_simple-tag.json': { status: 200, events: [] }, // push.1 again
    'ofc-sample-json/fullsample.json': {
      status: 202,
      events: ['PushIgnored'],
      reason: /^skipping build for: idea branch, the build branch is: master$/,
    },
    'ofc-sample-json/idea-raw.json': { status: 202, events: ['PushIgnored'], reason: /skipping build for: idea branch/ },
    'ofc-sample-json/go-fns.json': { status: 202, events: ['PushReceived'] },
    'ofc-sample-json/push-apr.json': { status: 202, events: ['PushReceived'] },
    'ofc-sample-json/raw-gh.json': { status: 202, events: ['PushReceived'] },
    'ofc-sample-json/raw-non-master.json': { status: 202, events: ['PushIgnored'], reason: /skipping build for: test branch/ },
    'ofc-sample-json/remove_installation.json': { status: 202, events: ['RepositoryRemoved'] },
    'octokit-webhooks-examples/installation.0.deleted.json': { status: 202, events: ['InstallationDeleted'] },
    'octokit-webhooks-examples/installation.1.created.json': { status: 202, events: ['InstallationCreated'] },
    'octokit-webhooks-examples/installation.2.created.json': { status: 202, events: [] },
    'octokit-webhooks-examples/installation.3.deleted.json': { status: 202, events: [] },
    'octokit-webhooks-examples/installation.4.new_permissions_accepted.json': { status: 200, events: [] },
    'octokit-webhooks-examples/installation.5.suspend.json': { status: 200, events: [] },
    'octokit-webhooks-examples/installation.6.unsuspend.json': { status: 200, events: [] },
    'octokit-webhooks-examples/installation_repositories.0.added.json': { status: 202, events: ['RepositoryAdded'] },
    'octokit-webhooks-examples/installation_repositories.1.added.json': { status: 202, events: [] },
    'octokit-webhooks-examples/installation_repositories.2.removed.json': { status: 202, events: ['RepositoryRemoved'] },
    // GitHub sends an App every event it subscribed to; those faasline does not use get a 200 saying so, and ping its pong.
    ...Object.fromEntries(
      readdirSync(join(fixtures, 'octokit-webhooks-examples'))
        .filter((file) => /^(check_run|check_suite|status|ping)\./.test(file))
        .map((file) => {
          const [event, , action] = file.split('.');
          const body =
            event === 'ping'
              ? { status: 'pong' }
              : event === 'check_run'
                ? { status: 'ignored', reason: `check_run ${action} changes nothing here` }
                : { status: 'ignored', reason: `event ${event} is not used by faasline` };
          return [`octokit-webhooks-examples/${file}`, { status: 200, events: [], body }];
        }),
    ),
    // The re-run button: the example's check run is another App's (id 2), so nothing re-runs and the reason is kept;
    // the second example re-requests the same check run, which is re-run (or refused) once.
    'octokit-webhooks-examples/check_run.7.rerequested.json': {
      status: 202,
      events: ['PushIgnored'],
      reason: /^re-run of check run 4 ignored: it was created by GitHub App 2, not by this one$/,
    },
    'octokit-webhooks-examples/check_run.8.rerequested.json': { status: 200, events: [] },
  };
  const eventOf = (path: string) =>
    path.includes('remove_installation')
      ? 'installation_repositories'
      : path.startsWith('ofc-sample-json/')
        ? 'push'
        : path.split('/')[1]!.split('.')[0]!;

  it('covers every fixture of a webhook event', () => {
    const all = ['octokit-webhooks-examples', 'ofc-sample-json'].flatMap((dir) =>
      readdirSync(join(fixtures, dir)).map((file) => `${dir}/${file}`),
    );
    expect(Object.keys(expectations).sort()).toEqual(all.sort());
    expect(new Set(Object.keys(expectations).map(eventOf))).toEqual(
      new Set(['push', 'installation', 'installation_repositories', 'ping', 'check_run', 'check_suite', 'status']),
    );
  });

  it.each(Object.entries(expectations))('%s', async (path, expected) => {
    const body = fixture(path);
    const answer = await deliver(eventOf(path), body);
    expect(answer.status).toBe(expected.status);
    if (expected.body) expect(answer.body).toEqual(expected.body);
    const recorded = await eventsOf(answer.deliveryId);
    expect(recorded.map((e) => e.type)).toEqual(expected.events);
    if (expected.reason) expect((recorded[0]!.data as { reason: string }).reason).toMatch(expected.reason);
    for (const e of recorded) expect(e.metadata.actor).toMatch(/^github:/);
  });

  it('sends every accepted push through the source step, which refuses hosts outside GIT_ALLOWED_HOSTS, and reports it', async () => {
    const answer = await deliver('push', asNewPush('ofc-sample-json/go-fns.json'));
    const [received] = await eventsOf(answer.deliveryId);
    await eventually(async () => (await eventsOf(answer.deliveryId)).some((e) => e.type === 'SourceRejected'), 30_000, 'SourceRejected');
    const rejected = (await eventsOf(answer.deliveryId)).find((e) => e.type === 'SourceRejected');
    expect(rejected).toMatchObject({
      type: 'SourceRejected',
      data: {
        owner: 'alexellis',
        repo: 'go-fns-tester',
        sha: '27c584a2bcb7843f79249dfb058d6daeb164d69f',
        reason: 'clone URL host github.com is not in GIT_ALLOWED_HOSTS',
      },
      metadata: { causationId: received!.metadata.eventId, actor: 'system:source' },
    });
    await eventually(
      async () => (await eventsOf(answer.deliveryId)).some((e) => e.type === 'CommitStatusReported'),
      30_000,
      'the failure status',
    );
    const status = (await eventsOf(answer.deliveryId)).find((e) => e.type === 'CommitStatusReported');
    expect(status!.data).toMatchObject({
      context: 'stack-deploy',
      state: 'failure',
      description: 'clone URL host github.com is not in GIT_ALLOWED_HOSTS',
      delivered: false,
    });
  });

  it('answers ping with 200 and records nothing', async () => {
    const answer = await deliver('ping', fixture('octokit-webhooks-examples/ping.0.json'));
    expect(answer).toMatchObject({ status: 200, body: { status: 'pong' } });
    expect(await eventsOf(answer.deliveryId)).toEqual([]);
  });
});

describe('refused and repeated deliveries', () => {
  const push = () => fixture('ofc-sample-json/push-apr.json');
  const pushesOf = async (sha: string) =>
    (await backbone.store.readAll(0, 10_000)).filter(
      (event) => /^Push(Received|Ignored)$/.test(event.type) && (event.data as { sha: string }).sha === sha,
    );

  it('records a repeated X-GitHub-Delivery once and answers the repeat with 200', async () => {
    const deliveryId = randomUUID();
    const body = asNewPush('ofc-sample-json/push-apr.json');
    const answers = await Promise.all([1, 2, 3].map(() => deliver('push', body, { 'x-github-delivery': deliveryId })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
    const again = await deliver('push', body, { 'x-github-delivery': deliveryId });
    expect(again).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    // Another push under a delivery id already recorded is a duplicate delivery too.
    const other = await deliver('push', asNewPush('ofc-sample-json/push-apr.json', { after: '9'.repeat(40) }), {
      'x-github-delivery': deliveryId,
    });
    expect(other).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    expect((await eventsOf(deliveryId)).filter((e) => e.type === 'PushReceived')).toHaveLength(1);
  });

  it('records a signed push body sent again under new delivery ids once, answers 200 and runs nothing for the copies', async () => {
    const sha = 'a'.repeat(40);
    const body = asNewPush('octokit-webhooks-examples/push.4.created-heads_master.json', { after: sha });
    const answers = await Promise.all([1, 2, 3].map(() => deliver('push', body)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
    for (const copy of answers.filter((a) => a.status === 200)) {
      expect(copy.body).toMatchObject({ status: 'duplicate' });
      expect(await eventsOf(copy.deliveryId)).toEqual([]);
    }
    const original = answers.find((a) => a.status === 202)!;
    await eventually(
      async () => (await eventsOf(original.deliveryId)).some((e) => e.type === 'SourceRejected'),
      30_000,
      'the one push through the source step',
    );
    expect((await pushesOf(sha)).map((e) => e.metadata.correlationId)).toEqual([original.deliveryId]);
    expect(
      (await backbone.store.readAll(0, 10_000)).filter((e) => e.type === 'SourceRejected' && (e.data as { sha: string }).sha === sha),
    ).toHaveLength(1);
  });

  it('refuses a replay of an earlier push after the branch moved on, so a captured body cannot roll it back', async () => {
    const [first, second] = ['b'.repeat(40), 'c'.repeat(40)];
    const firstBody = asNewPush('octokit-webhooks-examples/push.4.created-heads_master.json', { after: first });
    expect((await deliver('push', firstBody)).status).toBe(202);
    expect(
      (await deliver('push', asNewPush('octokit-webhooks-examples/push.4.created-heads_master.json', { before: first, after: second })))
        .status,
    ).toBe(202);
    const replay = await deliver('push', firstBody);
    expect(replay).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    expect(await eventsOf(replay.deliveryId)).toEqual([]);
    expect(await pushesOf(first)).toHaveLength(1);
  });

  it('records a force-push back to an earlier SHA (a revert) as a new push, so what runs follows the branch', async () => {
    const [reverted, undone] = ['d'.repeat(40), 'e'.repeat(40)];
    expect(
      (await deliver('push', asNewPush('octokit-webhooks-examples/push.4.created-heads_master.json', { after: reverted }))).status,
    ).toBe(202);
    expect(
      (await deliver('push', asNewPush('octokit-webhooks-examples/push.4.created-heads_master.json', { before: reverted, after: undone })))
        .status,
    ).toBe(202);
    const revert = await deliver(
      'push',
      asNewPush('octokit-webhooks-examples/push.4.created-heads_master.json', { before: undone, after: reverted }),
    );
    expect(revert).toMatchObject({ status: 202, body: { status: 'recorded', events: ['PushReceived'] } });
    expect(await pushesOf(reverted)).toHaveLength(2);
  });

  it('answers a redelivered installation event with 200', async () => {
    const deliveryId = randomUUID();
    const body = fixture('octokit-webhooks-examples/installation_repositories.2.removed.json').replace('"id": 2,', '"id": 4242,');
    expect((await deliver('installation_repositories', body, { 'x-github-delivery': deliveryId })).status).toBe(202);
    expect(await deliver('installation_repositories', body, { 'x-github-delivery': deliveryId })).toMatchObject({
      status: 200,
      body: { status: 'duplicate' },
    });
    expect(await eventsOf(deliveryId)).toHaveLength(1);
  });

  /** A fixture's real body moved to installation `id`, with GitHub's `installation.updated_at` as given. */
  const installationBody = (
    path: string,
    id: number,
    updatedAt?: number,
    change: (payload: Record<string, unknown>) => void = () => {},
  ) => {
    const payload = JSON.parse(fixture(path)) as { installation: Record<string, unknown> } & Record<string, unknown>;
    payload.installation = { ...payload.installation, id, ...(updatedAt === undefined ? {} : { updated_at: updatedAt }) };
    change(payload);
    return JSON.stringify(payload, null, 2);
  };
  const installationStream = async (id: number) => (await backbone.store.readStream(streamIds.installation(id))).events.map((e) => e.type);

  it('records a signed installation_repositories body once, so a replay under a new delivery id cannot remove a repository added back', async () => {
    const id = 7001;
    const removed = installationBody('octokit-webhooks-examples/installation_repositories.2.removed.json', id);
    const addedBack = installationBody(
      'octokit-webhooks-examples/installation_repositories.2.removed.json',
      id,
      1_700_000_000,
      (payload) => {
        payload.action = 'added';
        payload.repositories_added = payload.repositories_removed;
        payload.repositories_removed = [];
      },
    );
    expect(await deliver('installation_repositories', removed)).toMatchObject({
      status: 202,
      body: { status: 'recorded', events: ['RepositoryRemoved'] },
    });
    expect(await deliver('installation_repositories', addedBack)).toMatchObject({
      status: 202,
      body: { status: 'recorded', events: ['RepositoryAdded'] },
    });

    const replay = await deliver('installation_repositories', removed);
    expect(replay).toMatchObject({ status: 200, body: { status: 'duplicate', events: [] } });
    expect(await eventsOf(replay.deliveryId)).toEqual([]);
    expect(await installationStream(id)).toEqual(['RepositoryRemoved', 'RepositoryAdded']);

    // A real second removal is another body (GitHub's updated_at moves on): it records as before.
    const removedAgain = installationBody('octokit-webhooks-examples/installation_repositories.2.removed.json', id, 1_700_000_100);
    expect(await deliver('installation_repositories', removedAgain)).toMatchObject({
      status: 202,
      body: { status: 'recorded', events: ['RepositoryRemoved'] },
    });
    expect(await installationStream(id)).toEqual(['RepositoryRemoved', 'RepositoryAdded', 'RepositoryRemoved']);
  });

  it('records a signed installation body once, so a replayed "deleted" cannot uninstall the App installed again', async () => {
    const id = 7002;
    const created = installationBody('octokit-webhooks-examples/installation.1.created.json', id);
    const deleted = installationBody('octokit-webhooks-examples/installation.0.deleted.json', id);
    const createdAgain = installationBody('octokit-webhooks-examples/installation.1.created.json', id, 1_700_000_000);
    expect((await deliver('installation', created)).body).toMatchObject({ status: 'recorded', events: ['InstallationCreated'] });
    expect((await deliver('installation', deleted)).body).toMatchObject({ status: 'recorded', events: ['InstallationDeleted'] });
    expect((await deliver('installation', createdAgain)).body).toMatchObject({ status: 'recorded', events: ['InstallationCreated'] });

    const replays = await Promise.all([1, 2].map(() => deliver('installation', deleted)));
    for (const replay of replays) {
      expect(replay).toMatchObject({ status: 200, body: { status: 'duplicate', events: [] } });
      expect(await eventsOf(replay.deliveryId)).toEqual([]);
    }
    expect(await installationStream(id)).toEqual(['InstallationCreated', 'InstallationDeleted', 'InstallationCreated']);
  });

  it('keeps a delivery id recorded once, whatever installation body comes with it again', async () => {
    const deliveryId = randomUUID();
    const removed = installationBody('octokit-webhooks-examples/installation_repositories.2.removed.json', 7003);
    expect((await deliver('installation_repositories', removed, { 'x-github-delivery': deliveryId })).status).toBe(202);
    const other = installationBody('octokit-webhooks-examples/installation_repositories.2.removed.json', 7004);
    expect(await deliver('installation_repositories', other, { 'x-github-delivery': deliveryId })).toMatchObject({
      status: 200,
      body: { status: 'duplicate' },
    });
    expect(await installationStream(7004)).toEqual([]);
  });

  it('refuses a wrong or missing signature with 401 and records nothing', async () => {
    const unsigned = (body: string, deliveryId: string) =>
      fetch(`${url}/webhooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': deliveryId },
        body,
      });
    const wrong = await deliver('push', push(), { 'x-hub-signature-256': sign(push(), 'not the secret') });
    expect(wrong).toMatchObject({ status: 401, body: { message: 'X-Hub-Signature-256 does not match the payload' } });
    const tampered = await deliver('push', push().replace('kubecon-tester', 'kubecon-testes'), { 'x-hub-signature-256': sign(push()) });
    expect(tampered.status).toBe(401);
    const [missing, garbage] = [randomUUID(), randomUUID()];
    expect((await unsigned(push(), missing)).status).toBe(401);
    expect((await unsigned('{not json', garbage)).status).toBe(401);
    for (const deliveryId of [wrong.deliveryId, tampered.deliveryId, missing, garbage]) expect(await eventsOf(deliveryId)).toEqual([]);
  });

  it('refuses a signed body that is not a valid payload with 400 and the reason', async () => {
    const noRepository = JSON.stringify({ ...JSON.parse(push()), repository: undefined });
    expect(await deliver('push', noRepository)).toMatchObject({ status: 400, body: { message: 'repository must be an object' } });
    const badSha = JSON.stringify({ ...JSON.parse(push()), after: 'HEAD' });
    expect(await deliver('push', badSha)).toMatchObject({ status: 400, body: { message: 'after must be a 40-character commit SHA' } });
    expect(await deliver('push', '{not json')).toMatchObject({ status: 400, body: { message: 'the body is not JSON' } });
    expect(await deliver('installation', JSON.stringify({ action: 'created' }))).toMatchObject({
      status: 400,
      body: { message: 'installation must be an object' },
    });
  });

  it('accepts GitHub’s form encoding, signed over the form body', async () => {
    const payload = asNewPush('ofc-sample-json/push-apr.json');
    const body = new URLSearchParams({ payload }).toString();
    const answer = await deliver('push', body, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(answer.status).toBe(202);
    // The push inside the form is the one recorded.
    const { after, repository } = JSON.parse(payload) as { after: string; repository: { name: string; pushed_at: number } };
    const [received] = await eventsOf(answer.deliveryId);
    expect(received).toMatchObject({ type: 'PushReceived', data: { sha: after, repo: repository.name } });
    // The signature covers the bytes GitHub sent (the form), not the JSON inside it.
    const signedOverJson = await deliver('push', body, {
      'content-type': 'application/x-www-form-urlencoded',
      'x-hub-signature-256': sign(payload),
    });
    expect(signedOverJson.status).toBe(401);
    expect(await eventsOf(signedOverJson.deliveryId)).toEqual([]);
  });

  it('answers 413 over 25 MB and counts every refusal in /metrics', async () => {
    const huge = Buffer.alloc(25 * 1024 * 1024 + 1, 'a');
    const response = await fetch(`${url}/webhooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': sign(huge),
      },
      body: huge,
    });
    expect(response.status).toBe(413);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^faasline_webhook_rejected_total\{reason="too_large"\} 1$/m);
    expect(metrics).toMatch(/^faasline_webhook_rejected_total\{reason="signature"\} [1-9]/m);
    expect(metrics).toMatch(/^faasline_webhook_rejected_total\{reason="payload"\} [1-9]/m);
  });
});
