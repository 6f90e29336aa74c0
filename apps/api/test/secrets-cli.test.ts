import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openSealed, parseSecretsFile, sealKeyFromPrivate, type SealKey } from '#infra';
import { startInProcessApi, type InProcessApi } from './support/in-process-api.js';
import { startFakeGateway, type FakeGateway } from '../../../test/support/fake-openfaas.js';
import { runCli } from '../../../test/support/run-cli.js';

const ADMIN = 'cli-admin-token';
const SEAL_PRIVATE = Buffer.alloc(32, 5).toString('base64');
let api: InProcessApi;
let gateway: FakeGateway;
let key: SealKey;
let folder: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  gateway = await startFakeGateway('admin', 'gw');
  api = await startInProcessApi(
    { webhookSecret: 'whs', adminToken: ADMIN, gatewayPassword: 'gw', sealPrivateKey: SEAL_PRIVATE },
    { OPENFAAS_URL: gateway.url },
  );
  key = await sealKeyFromPrivate(SEAL_PRIVATE);
  folder = mkdtempSync(join(tmpdir(), 'faasline-seal-'));
  env = { ...process.env, FAASLINE_API: api.url, ADMIN_TOKEN: ADMIN, NO_COLOR: '1' };
});
afterAll(async () => {
  await api?.close();
  await gateway?.close();
  rmSync(folder, { recursive: true, force: true });
});

describe('faasline seal', () => {
  it("writes secrets.yml sealed to the server's key, keeping the other entries", async () => {
    const file = join(folder, 'secrets.yml');
    const first = await runCli(['seal', 'api-key', '--value', 'one', '--file', file], { env });
    expect(first).toMatchObject({
      code: 0,
      stdout: `sealed api-key to key ${key.keyId} in ${file}: commit it beside stack.yml and push\n`,
    });
    writeFileSync(join(folder, 'value.bin'), 'two\n');
    expect((await runCli(['seal', 'db-password', '--from-file', join(folder, 'value.bin'), '--file', file], { env })).code).toBe(0);
    expect((await runCli(['seal', 'token', '--file', file, '--json'], { env, input: 'three' })).code).toBe(0);

    const text = readFileSync(file, 'utf8');
    const parsed = parseSecretsFile(text, 'secrets.yml', key.keyId);
    if (!parsed.ok) throw new Error(parsed.reason);
    const opened = await Promise.all(parsed.file.secrets.map(async (s) => [s.name, (await openSealed(s.name, s.sealed, key)).toString()]));
    expect(opened).toEqual([
      ['api-key', 'one'],
      ['db-password', 'two\n'],
      ['token', 'three'],
    ]);
    for (const value of ['one', 'two', 'three']) expect(text).not.toContain(value);
  });

  it('refuses a bad name, and two value sources, in one line', async () => {
    const bad = await runCli(['seal', 'Bad_Name', '--value', 'x', '--file', join(folder, 'other.yml')], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^faasline: secret name "Bad_Name" must be lower-case/);
    const both = await runCli(['seal', 'x', '--value', 'x', '--from-file', 'y', '--file', join(folder, 'other.yml')], { env });
    expect(both).toMatchObject({ code: 1, stderr: 'faasline: give --value or --from-file, not both\n' });
  });
});

describe('faasline token and faasline secret', () => {
  it("lets an owner's token manage that owner's secrets only, until it is revoked", async () => {
    const created = await runCli(['token', 'create', '--owner', 'acme', '--json'], { env });
    expect(created.code).toBe(0);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
    const owner = { ...env, FAASLINE_TOKEN: token, ADMIN_TOKEN: '' };

    const set = await runCli(['secret', 'set', 'db', '--owner', 'acme'], { env: owner, input: 's3cret' });
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^set db as acme-db \(sha256:[0-9a-f]{12}\)\n$/);
    expect(gateway.secretValues.get('acme-db')?.toString()).toBe('s3cret');

    const list = await runCli(['secret', 'list', '--owner', 'acme', '--json'], { env: owner });
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'db', secret: 'acme-db', source: 'api' })]);
    expect(list.stdout).not.toContain('s3cret');

    const other = await runCli(['secret', 'list', '--owner', 'someone'], { env: owner });
    expect(other).toMatchObject({
      code: 1,
      stderr: 'faasline: GET /api/v1/owners/someone/secrets answered 403: this token manages the secrets of acme only\n',
    });

    expect((await runCli(['secret', 'delete', 'db', '--owner', 'acme'], { env: owner })).stdout).toBe('deleted db of acme\n');
    expect(gateway.secrets.has('acme-db')).toBe(false);
    expect(await runCli(['secret', 'delete', 'db', '--owner', 'acme'], { env: owner })).toMatchObject({
      code: 1,
      stderr: 'faasline: acme has no secret db set through faasline\n',
    });

    expect(await runCli(['token', 'revoke', id], { env })).toMatchObject({ code: 0, stdout: `revoked token ${id}\n` });
    expect((await runCli(['secret', 'list', '--owner', 'acme'], { env: owner })).stderr).toMatch(/answered 403: unknown or revoked token/);
  });
});
