import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CallerPipe, mayManage, type Caller } from '../src/auth/caller.js';
import { startInProcessApi, type InProcessApi } from './support/in-process-api.js';

const ADMIN = 'the-admin-token';
let api: InProcessApi;

beforeAll(async () => {
  api = await startInProcessApi({ webhookSecret: 'whs', adminToken: ADMIN });
});
afterAll(async () => {
  await api?.close();
});

const issue = (body: unknown, token: string | null = ADMIN) =>
  fetch(`${api.url}/api/v1/admin/owner-tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
const revoke = (id: string, token: string | null = ADMIN) =>
  fetch(`${api.url}/api/v1/admin/owner-tokens/${id}`, {
    method: 'DELETE',
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
const callerOf = (authorization: string | undefined): Promise<Caller> => api.app.get(CallerPipe).transform(authorization);
const ownerEvents = async () =>
  (await api.backbone.db.query(
    `SELECT type, data, actor, stream_id FROM events WHERE stream_id LIKE 'owner-%' ORDER BY global_position`,
  )) as {
    type: string;
    data: Record<string, unknown>;
    actor: string;
    stream_id: string;
  }[];

describe('owner tokens', () => {
  it('are issued by the admin only: 401 without a token, 403 with a wrong one', async () => {
    expect((await issue({ owner: 'acme' }, null)).status).toBe(401);
    expect((await issue({ owner: 'acme' }, 'nope')).status).toBe(403);
    expect((await revoke('00000000-0000-0000-0000-000000000000', null)).status).toBe(401);
  });

  it('refuses an owner that is not a GitHub login', async () => {
    const answer = await issue({ owner: 'not a login' });
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { message: string }).message).toMatch(/^owner must be a GitHub login/);
    const missing = await issue({});
    expect([missing.status, await missing.json()]).toEqual([
      400,
      { message: 'owner is required: the GitHub user or organisation the token speaks for' },
    ]);
  });

  it('opens the owner namespace, is recorded without the token, and stops working once revoked', async () => {
    const answer = await issue({ owner: 'Acme' });
    expect(answer.status).toBe(201);
    const issued = (await answer.json()) as { token: string; owner: string; id: string };
    expect(issued).toEqual({ token: expect.stringMatching(/^flo_[A-Za-z0-9_-]{43}$/), owner: 'Acme', id: expect.any(String) });

    const caller = await callerOf(`Bearer ${issued.token}`);
    expect(caller).toEqual({ kind: 'owner', owner: 'Acme', actor: `owner:Acme:${issued.id}` });
    expect(mayManage(caller, 'acme')).toBe(true);
    expect(mayManage(caller, 'acme-labs')).toBe(false);
    expect(await callerOf(`Bearer ${ADMIN}`)).toEqual({ kind: 'admin', actor: 'admin' });

    // Only the hash is stored.
    const stored = JSON.stringify(await api.backbone.db.query('SELECT * FROM owner_tokens'));
    expect(stored).not.toContain(issued.token);

    expect((await revoke(issued.id)).status).toBe(204);
    await expect(callerOf(`Bearer ${issued.token}`)).rejects.toMatchObject({ status: 403 });
    expect((await revoke(issued.id)).status).toBe(204);
    expect((await revoke('00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await revoke('not-a-uuid')).status).toBe(404);

    const events = await ownerEvents();
    expect(events).toEqual([
      { type: 'OwnerTokenIssued', data: { owner: 'Acme', tokenId: issued.id }, actor: 'admin:admin-token', stream_id: 'owner-acme' },
      { type: 'OwnerTokenRevoked', data: { owner: 'Acme', tokenId: issued.id }, actor: 'admin:admin-token', stream_id: 'owner-acme' },
    ]);
    expect(JSON.stringify(events)).not.toContain(issued.token);
  });

  it('answers 401 without a bearer token and 403 for a token nobody issued', async () => {
    await expect(callerOf(undefined)).rejects.toMatchObject({ status: 401 });
    await expect(callerOf('Basic abc')).rejects.toMatchObject({ status: 401 });
    await expect(callerOf('Bearer flo_unknown')).rejects.toMatchObject({ status: 403 });
    await expect(callerOf('Bearer something-else')).rejects.toMatchObject({ status: 403 });
  });
});
