import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { pushPayload, signPayload } from '../../../test/support/github-payloads.js';
import { startInProcessApi, type InProcessApi } from './support/in-process-api.js';

const secret = 'webhook-headers-secret';
let api: InProcessApi;

beforeAll(async () => {
  api = await startInProcessApi({ webhookSecret: secret });
});
afterAll(() => api?.close());

const body = pushPayload({
  owner: 'alexellis',
  repo: 'headers',
  sha: 'c'.repeat(40),
  cloneUrl: 'http://127.0.0.1:1/alexellis/headers.git',
});
const complete = (): Record<string, string> => ({
  'content-type': 'application/json',
  'x-github-event': 'push',
  'x-github-delivery': randomUUID(),
  'x-hub-signature-256': signPayload(body, secret),
});
const without = (header: string, headers = complete()) => Object.fromEntries(Object.entries(headers).filter(([name]) => name !== header));
const post = async (headers: Record<string, string>) => {
  const response = await fetch(`${api.url}/webhooks/github`, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as { message?: string; status?: string } };
};
const storedEvents = async () => (await api.backbone.db.query(`SELECT count(*)::int AS n FROM events`))[0].n as number;
const rejected = async (reason: string) => {
  const metrics = await (await fetch(`${api.url}/metrics`)).text();
  return Number(new RegExp(`^faasline_webhook_rejected_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
};

describe('a webhook delivery missing one of GitHub’s headers', () => {
  it('without X-Hub-Signature-256 is refused with 401 naming it, counted as a signature refusal, and records nothing', async () => {
    const [before, refusals] = [await storedEvents(), await rejected('signature')];
    expect(await post(without('x-hub-signature-256'))).toEqual({
      status: 401,
      body: expect.objectContaining({ message: 'X-Hub-Signature-256 is missing' }),
    });
    expect(await storedEvents()).toBe(before);
    expect(await rejected('signature')).toBe(refusals + 1);
  });

  it('without X-GitHub-Event is refused with 400 naming it, counted as a payload refusal, and records nothing', async () => {
    const [before, refusals] = [await storedEvents(), await rejected('payload')];
    expect(await post(without('x-github-event'))).toEqual({
      status: 400,
      body: expect.objectContaining({ message: 'X-GitHub-Event is missing' }),
    });
    expect(await storedEvents()).toBe(before);
    expect(await rejected('payload')).toBe(refusals + 1);
  });

  it('without X-GitHub-Delivery, or with one that is not a delivery id, is refused with 400 naming it and records nothing', async () => {
    const [before, refusals] = [await storedEvents(), await rejected('payload')];
    const answer = { status: 400, body: expect.objectContaining({ message: 'X-GitHub-Delivery is missing or not a delivery id' }) };
    expect(await post(without('x-github-delivery'))).toEqual(answer);
    expect(await post({ ...complete(), 'x-github-delivery': '../../etc/passwd' })).toEqual(answer);
    expect(await storedEvents()).toBe(before);
    expect(await rejected('payload')).toBe(refusals + 2);
  });

  it('with every header is recorded: the refusals above were the headers’, not the body’s', async () => {
    const before = await storedEvents();
    expect(await post(complete())).toEqual({ status: 202, body: expect.objectContaining({ status: 'recorded' }) });
    expect(await storedEvents()).toBeGreaterThan(before);
  });
});
