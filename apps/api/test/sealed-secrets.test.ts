import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { seal, sealKeyFromPublic, withSealedSecret } from '#infra';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import type { GitFixtures, RepoFiles } from '../../../test/support/git-repos.js';
import { startEmbeddedWorld, type EmbeddedWorld } from './support/embedded-world.js';
import { deliverCommit } from './support/spawn-api.js';

const webhookSecret = 'sealed-webhook-secret';
/** What must reach the handler and nothing else; its base64 must not leak either. */
const VALUE = 'tr0ub4dor-sealed-in-git';
const stack = (fn: string) =>
  `provider:\n  name: openfaas\nfunctions:\n  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: ${fn}:0.1\n    secrets:\n      - api-key\n`;
const handler = `'use strict'
const fs = require('fs')
module.exports = async (event, context) =>
  context.status(200).succeed(fs.readFileSync('/var/openfaas/secrets/api-key', 'utf8'))
`;
const files = (fn: string, secretsYml: string): RepoFiles => ({
  'stack.yml': stack(fn),
  'secrets.yml': secretsYml,
  [`${fn}/handler.js`]: handler,
});

describe('a sealed secret committed in secrets.yml, through the spawned app on the embedded gateway', () => {
  let world: EmbeddedWorld;
  let db: DataSource;
  let git: GitFixtures;
  let dataDir: string;
  let api: EmbeddedWorld['api'];
  let gatewayUrl: string;
  let admin: string;
  let key: { publicKey: string; keyId: string };
  const answers: string[] = [];

  beforeAll(async () => {
    world = await startEmbeddedWorld(webhookSecret, 'faasline-sealed-');
    ({ db, git, dataDir, api, gatewayUrl } = world);
    admin = readFileSync(join(dataDir, 'secrets', 'admin-token'), 'utf8').trim();
  });

  afterAll(async () => {
    await world?.close();
  });

  const get = async (url: string, headers: Record<string, string> = {}) => {
    const text = await (await fetch(url, { headers })).text();
    answers.push(text);
    return text;
  };
  const push = async (owner: string, repo: string, repoFiles: RepoFiles) => {
    const sha = git.commit(owner, repo, repoFiles);
    const deliveryId = await deliverCommit(api.url, webhookSecret, git, { owner, repo, sha });
    const stackStatus = async () =>
      (
        (await db.query(
          `SELECT data FROM events WHERE correlation_id = $1 AND type = 'CommitStatusReported' AND data->>'context' = 'stack-deploy'
           AND data->>'state' <> 'pending'`,
          [deliveryId],
        )) as { data: { state: string; description: string } }[]
      )[0]?.data;
    await eventually(async () => (await stackStatus()) !== undefined, 90_000, 'the stack status');
    return { deliveryId, status: (await stackStatus())! };
  };

  it('generates the sealing key at first start into DATA_DIR/secrets (0600) and serves its public half', async () => {
    expect(statSync(join(dataDir, 'secrets', 'seal-private-key')).mode & 0o777).toBe(0o600);
    key = JSON.parse(await get(`${api.url}/api/v1/seal-key`)) as typeof key;
    expect(api.output()).toContain(`sealing key ${key.keyId}: stored in`);
  });

  it('opens the secret for the handler at /var/openfaas/secrets/api-key', async () => {
    const sealed = await seal(VALUE, sealKeyFromPublic(key.publicKey));
    const { deliveryId, status } = await push('acme', 'sealed', files('reader', withSealedSecret(null, key, 'api-key', sealed)));
    expect(status).toEqual({ ...status, state: 'success' });
    const answer = await fetch(`${gatewayUrl}/function/acme-reader`);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe(VALUE);

    const types = (
      (await db.query(`SELECT type FROM events WHERE correlation_id = $1 ORDER BY global_position`, [deliveryId])) as { type: string }[]
    ).map((row) => row.type);
    // The secrets are set before anything of the push builds.
    expect(types.indexOf('SecretsApplied')).toBeGreaterThan(types.indexOf('SourceFetched'));
    expect(types.indexOf('SecretsApplied')).toBeLessThan(types.indexOf('BuildStarted'));
    expect(types).toContain('SecretSet');
    const [set] = (await db.query(`SELECT data, actor FROM events WHERE correlation_id = $1 AND type = 'SecretSet'`, [deliveryId])) as {
      data: Record<string, unknown>;
      actor: string;
    }[];
    expect(set).toEqual({
      actor: 'system:secrets',
      data: {
        owner: 'acme',
        name: 'api-key',
        secret: 'acme-api-key',
        fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        source: 'push',
        deliveryId,
        updatedAt: expect.any(String),
      },
    });

    // The same secrets.yml again: nothing to set, the function still reads it.
    const again = await push('acme', 'sealed', {
      ...files('reader', withSealedSecret(null, key, 'api-key', sealed)),
      'README.md': 'again\n',
    });
    expect(again.status.state).toBe('success');
    expect(await db.query(`SELECT 1 FROM events WHERE correlation_id = $1 AND type = 'SecretSet'`, [again.deliveryId])).toEqual([]);
  });

  it('fails a push whose secrets.yml is sealed to another key, naming both keys, and deploys nothing of it', async () => {
    const otherKey = sealKeyFromPublic(Buffer.alloc(32, 9).toString('base64'));
    const sealed = await seal('another value', otherKey);
    const { deliveryId, status } = await push('acme', 'wrong-key', files('wrongkey', withSealedSecret(null, otherKey, 'api-key', sealed)));
    expect(status.state).toBe('failure');
    expect(status.description).toBe(
      `secrets.yml: sealed to key ${otherKey.keyId}, but this server's key is ${key.keyId}: seal the secrets again with faasline seal`,
    );
    expect(await db.query(`SELECT type FROM events WHERE correlation_id = $1 AND type IN ('SourceRejected')`, [deliveryId])).toHaveLength(
      1,
    );
    expect((await fetch(`${gatewayUrl}/function/acme-wrongkey`)).status).toBe(404);
  });

  it('fails a push with a value that does not open, naming the secret, and sets none of its secrets', async () => {
    const good = await seal('would be fine', sealKeyFromPublic(key.publicKey));
    const forged = Buffer.alloc(80, 3).toString('base64');
    const yml = withSealedSecret(withSealedSecret(null, key, 'first-one', good), key, 'api-key', forged);
    const { deliveryId, status } = await push('acme', 'forged', files('forged', yml));
    expect(status.state).toBe('failure');
    expect(status.description).toMatch(/^secret api-key cannot be opened with this server's key/);
    expect(
      await db.query(`SELECT 1 FROM events WHERE correlation_id = $1 AND type IN ('SecretSet', 'BuildStarted')`, [deliveryId]),
    ).toEqual([]);
    expect((await fetch(`${gatewayUrl}/function/acme-forged`)).status).toBe(404);
    const password = readFileSync(join(dataDir, 'secrets', 'openfaas-password'), 'utf8').trim();
    const onGateway = JSON.parse(
      await get(`${gatewayUrl}/system/secrets`, { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` }),
    ) as { name: string }[];
    expect(onGateway.map((secret) => secret.name)).toEqual(['acme-api-key']);
  });

  it('shows the value nowhere else: not in the database, the logs, the statuses or the API answers', async () => {
    const auth = { authorization: `Bearer ${admin}` };
    await get(`${api.url}/api/v1/functions`, auth);
    await get(`${api.url}/api/v1/functions/acme-reader`, auth);
    await get(`${api.url}/api/v1/repos/acme/sealed/pushes`, auth);
    await get(`${api.url}/api/v1/audit?owner=acme`, auth);
    await get(`${api.url}/api/v1/owners/acme/secrets`, auth);
    const tables = (await db.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)) as { tablename: string }[];
    const rows: string[] = [];
    for (const { tablename } of tables) rows.push(JSON.stringify(await db.query(`SELECT * FROM "${tablename}"`)));
    const database = rows.join('\n');
    expect(database).toContain('acme-api-key');
    for (const leak of [VALUE, Buffer.from(VALUE).toString('base64'), Buffer.from(VALUE).toString('hex')]) {
      expect(database).not.toContain(leak);
      expect(api.output()).not.toContain(leak);
      for (const answer of answers) expect(answer).not.toContain(leak);
    }
  });
});
