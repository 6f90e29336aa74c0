import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keyIdOf, seal, sealKeyFromPublic } from '#infra';
import { startFakeGateway, type FakeGateway } from '../../../test/support/fake-openfaas.js';
import { startInProcessApi, type InProcessApi } from './support/in-process-api.js';

const ADMIN = 'the-admin-token';
const VALUE = 'pa55-w0rd-that-must-stay-put';
let api: InProcessApi;
let gateway: FakeGateway;
let acme: string;
let acmeLabs: string;

beforeAll(async () => {
  gateway = await startFakeGateway('admin', 'gw');
  api = await startInProcessApi({ webhookSecret: 'whs', adminToken: ADMIN, gatewayPassword: 'gw' }, { OPENFAAS_URL: gateway.url });
  acme = await issue('acme');
  acmeLabs = await issue('acme-labs');
});
afterAll(async () => {
  await api?.close();
  await gateway?.close();
});

async function issue(owner: string): Promise<string> {
  const answer = await fetch(`${api.url}/api/v1/admin/owner-tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify({ owner }),
  });
  return ((await answer.json()) as { token: string }).token;
}
type Answer = { status: number; text: string; json: () => unknown };
async function call(method: string, path: string, token: string | null, body?: unknown): Promise<Answer> {
  const answer = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await answer.text();
  return { status: answer.status, text, json: () => JSON.parse(text) };
}
const answers: string[] = [];
const recorded = async (answer: Promise<Answer>) => {
  const a = await answer;
  answers.push(a.text);
  return a;
};

describe('the seal key', () => {
  it('is public: anyone may seal to it', async () => {
    const answer = await recorded(call('GET', '/api/v1/seal-key', null));
    expect(answer.status).toBe(200);
    const { publicKey, keyId } = answer.json() as { publicKey: string; keyId: string };
    expect(Buffer.from(publicKey, 'base64')).toHaveLength(32);
    expect(keyId).toBe(keyIdOf(Buffer.from(publicKey, 'base64')));
  });
});

describe("an owner's secrets over the API", () => {
  it('need a token: 401 without, 403 with an unknown one, 403 for another owner', async () => {
    expect((await call('PUT', '/api/v1/owners/acme/secrets/api-key', null, { value: VALUE })).status).toBe(401);
    expect((await call('PUT', '/api/v1/owners/acme/secrets/api-key', 'flo_nope', { value: VALUE })).status).toBe(403);
    const other = await call('PUT', '/api/v1/owners/acme/secrets/api-key', acmeLabs, { value: VALUE });
    expect(other.status).toBe(403);
    expect(other.json()).toEqual({ message: 'this token manages the secrets of acme-labs only' });
    expect((await call('GET', '/api/v1/owners/acme/secrets', acmeLabs)).status).toBe(403);
    expect((await call('DELETE', '/api/v1/owners/acme/secrets/api-key', acmeLabs)).status).toBe(403);
    expect(gateway.secrets.size).toBe(0);
  });

  it('sets a plain value on the gateway under the owner prefix, answering its fingerprint only', async () => {
    const answer = await recorded(call('PUT', '/api/v1/owners/Acme/secrets/api-key', acme, { value: VALUE }));
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({
      name: 'api-key',
      secret: 'acme-api-key',
      fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      updatedAt: expect.any(String),
      source: 'api',
    });
    expect(gateway.secretValues.get('acme-api-key')?.toString()).toBe(VALUE);
  });

  it('takes a value sealed to the server key, and refuses one sealed to another key naming the secret only', async () => {
    const { publicKey } = (await call('GET', '/api/v1/seal-key', null)).json() as { publicKey: string };
    const sealed = await seal('second-value', sealKeyFromPublic(publicKey));
    expect((await recorded(call('PUT', '/api/v1/owners/acme/secrets/db-password', acme, { sealed }))).status).toBe(200);
    expect(gateway.secretValues.get('acme-db-password')?.toString()).toBe('second-value');

    const foreign = await seal('other', sealKeyFromPublic(Buffer.alloc(32, 7).toString('base64')));
    const refused = await recorded(call('PUT', '/api/v1/owners/acme/secrets/db-password', acme, { sealed: foreign }));
    expect(refused.status).toBe(400);
    expect((refused.json() as { message: string }).message).toMatch(/^secret db-password cannot be opened with this server's key/);
  });

  it('refuses bad names and bodies, saying what is wrong', async () => {
    expect((await call('PUT', '/api/v1/owners/acme/secrets/Bad_Name', acme, { value: 'x' })).status).toBe(400);
    const refusal = async (body?: unknown) => {
      const answer = await call('PUT', '/api/v1/owners/acme/secrets/ok', acme, body);
      return [answer.status, (answer.json() as { message: string }).message];
    };
    expect(await refusal({ value: 'x', sealed: 'y' })).toEqual([400, 'give exactly one of value or sealed']);
    expect(await refusal({})).toEqual([400, 'give exactly one of value or sealed']);
    expect(await refusal()).toEqual([400, 'give exactly one of value or sealed']);
    expect(await refusal({ value: 42 })).toEqual([400, 'value must be a string']);
    expect(await refusal({ value: 'x'.repeat(70 * 1024) })).toEqual([400, 'value is over 64 KiB']);
    expect(await refusal(['x'])).toEqual([400, 'the body must be a JSON object']);
  });

  it('lists names and fingerprints, never values', async () => {
    const answer = await recorded(call('GET', '/api/v1/owners/acme/secrets', acme));
    expect(answer.status).toBe(200);
    const { items } = answer.json() as { items: { name: string }[] };
    expect(items.map((item) => item.name)).toEqual(['api-key', 'db-password']);
    expect((await call('GET', '/api/v1/owners/acme/secrets', ADMIN)).status).toBe(200);
  });

  it("keeps a name another owner holds: acme's labs-key is acme-labs-key", async () => {
    expect((await call('PUT', '/api/v1/owners/acme/secrets/labs-key', acme, { value: 'mine' })).status).toBe(200);
    const taken = await call('PUT', '/api/v1/owners/acme-labs/secrets/key', acmeLabs, { value: 'theirs' });
    expect(taken.status).toBe(409);
    expect(taken.json()).toEqual({ message: 'secret name acme-labs-key is held by GitHub owner acme: choose another name' });
    expect(gateway.secretValues.get('acme-labs-key')?.toString()).toBe('mine');
  });

  it('deletes a secret from the gateway, once', async () => {
    expect((await call('DELETE', '/api/v1/owners/acme/secrets/api-key', acme)).status).toBe(204);
    expect(gateway.secrets.has('acme-api-key')).toBe(false);
    expect((await call('DELETE', '/api/v1/owners/acme/secrets/api-key', acme)).status).toBe(404);
  });

  it('records who did what with names and fingerprints, and no value anywhere', async () => {
    const events = (await api.backbone.db.query(
      `SELECT type, actor, data FROM events WHERE type IN ('SecretSet', 'SecretDeleted') ORDER BY global_position`,
    )) as { type: string; actor: string; data: Record<string, unknown> }[];
    expect(events.map((event) => [event.type, event.data.name, event.actor.replace(/:[0-9a-f-]{36}$/, '')])).toEqual([
      ['SecretSet', 'api-key', 'owner:acme'],
      ['SecretSet', 'db-password', 'owner:acme'],
      ['SecretSet', 'labs-key', 'owner:acme'],
      ['SecretDeleted', 'api-key', 'owner:acme'],
    ]);
    const everything = JSON.stringify(await api.backbone.db.query('SELECT * FROM events'));
    for (const value of [VALUE, 'second-value', 'mine', Buffer.from(VALUE).toString('base64')]) {
      expect(everything).not.toContain(value);
      for (const answer of answers) expect(answer).not.toContain(value);
    }
  });
});
