import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { gitFixtures, type GitFixtures, type RepoFiles } from '../../../test/support/git-repos.js';
import { deliverPush } from '../../../test/support/github-payloads.js';
import { bareEnv, start } from './support/spawn-api.js';

const secret = 'embedded-webhook-secret';
const handler = (greeting: string) => `'use strict'
const fs = require('fs')
const shout = require('shout')
module.exports = async (event, context) => {
  const key = fs.readFileSync('/var/openfaas/secrets/api-key', 'utf8').trim()
  return context.status(200).headers({ 'x-version': '${greeting}' }).succeed({ greeting: shout('${greeting}'), name: event.query.name, env: process.env.mode, key })
}
`;
const repo = (greeting: string): RepoFiles => ({
  'stack.yml': 'provider:\n  name: openfaas\nfunctions:\n  hello:\n    lang: node20\n    handler: ./hello\n    image: hello:0.1\n    environment:\n      mode: test\n    secrets:\n      - api-key\n',
  'hello/handler.js': handler(greeting),
  'hello/package.json': '{"name":"hello","dependencies":{"shout":"file:./shout"}}\n',
  'hello/shout/package.json': '{"name":"shout","version":"1.0.0","main":"index.js"}\n',
  'hello/shout/index.js': 'module.exports = (text) => text.toUpperCase() + "!";\n',
});

/** The start-up lines after "listening" name the embedded gateway's address. */
async function gatewayOf(api: { output: () => string }): Promise<string> {
  await eventually(async () => /OpenFaaS gateway: embedded at http/.test(api.output()), 10_000, 'the gateway line');
  return /OpenFaaS gateway: embedded at (http:\/\/\S+)/.exec(api.output())![1]!;
}

describe('FaaS in a box: the built-in node20 template on the embedded gateway', () => {
  let database: TestDatabase;
  let db: DataSource;
  let git: GitFixtures;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let api: { child: ChildProcess; url: string; output: () => string };
  let gatewayUrl: string;
  let auth: string;

  beforeAll(async () => {
    database = await provisionTestDatabase();
    db = await openDataSource(database.url);
    git = await gitFixtures();
    dataDir = mkdtempSync(join(tmpdir(), 'faasline-embedded-'));
    env = { ...bareEnv(), DATABASE_URL: database.url, DATA_DIR: dataDir, GITHUB_WEBHOOK_SECRET: secret, GIT_ALLOWED_HOSTS: new URL(git.server.url).host, GATEWAY_PORT: '0' };
    api = await start(env);
    gatewayUrl = await gatewayOf(api);
    const password = readFileSync(join(dataDir, 'secrets', 'openfaas-password'), 'utf8').trim();
    auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
  });

  afterAll(async () => {
    api?.child.kill('SIGKILL');
    await git.close();
    await db.destroy();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const push = async (files: RepoFiles) => {
    const sha = git.commit('alexellis', 'box', files);
    const { deliveryId, status } = await deliverPush(api.url, secret, { owner: 'alexellis', repo: 'box', sha, cloneUrl: git.cloneUrl('alexellis', 'box') });
    expect(status).toBe(202);
    await eventually(
      async () => (await db.query(`SELECT 1 FROM events WHERE correlation_id = $1 AND type IN ('FunctionDeployed', 'DeployFailed', 'BuildFailed')`, [deliveryId])).length > 0,
      60_000,
      'the deploy',
    );
    return (await db.query(`SELECT type, data FROM events WHERE correlation_id = $1 AND type IN ('FunctionDeployed', 'DeployFailed', 'BuildFailed')`, [deliveryId]))[0];
  };

  it('serves the OpenFaaS API with basic auth and keeps secrets', async () => {
    expect((await fetch(`${gatewayUrl}/healthz`)).status).toBe(200);
    const refused = await fetch(`${gatewayUrl}/system/functions`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Basic realm="Restricted"');
    const created = await fetch(`${gatewayUrl}/system/secrets`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alexellis-api-key', value: 's3cret' }) });
    expect(created.status).toBe(201);
    expect(await (await fetch(`${gatewayUrl}/system/secrets`, { headers: { authorization: auth } })).json()).toEqual([{ name: 'alexellis-api-key', namespace: 'openfaas-fn' }]);
    expect(await (await fetch(`${gatewayUrl}/system/info`, { headers: { authorization: auth } })).json()).toMatchObject({ provider: { provider: 'faasline' } });
  });

  it('builds a pushed node20 handler with its npm dependency and answers at its endpoint, with env and secret', async () => {
    const deployed = await push(repo('hello'));
    expect(deployed.type).toBe('FunctionDeployed');
    expect(deployed.data.endpoint).toBe(`${gatewayUrl}/function/alexellis-hello`);
    const response = await fetch(`${gatewayUrl}/function/alexellis-hello?name=alex`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-version')).toBe('hello');
    expect(await response.json()).toEqual({ greeting: 'HELLO!', name: 'alex', env: 'test', key: 's3cret' });
    const status = await (await fetch(`${gatewayUrl}/system/function/alexellis-hello`, { headers: { authorization: auth } })).json();
    expect(status).toMatchObject({ name: 'alexellis-hello', replicas: 1, availableReplicas: 1, envVars: { mode: 'test' }, labels: expect.objectContaining({ 'com.openfaas.cloud.git-repo': 'box' }) });
    expect((await fetch(`${gatewayUrl}/function/alexellis-missing`)).status).toBe(404);
  });

  it('redeploys with zero failed requests while a client calls it continuously', async () => {
    let stop = false;
    const answers: number[] = [];
    const versions = new Set<string>();
    const client = (async () => {
      while (!stop) {
        const response = await fetch(`${gatewayUrl}/function/alexellis-hello`).catch(() => null);
        answers.push(response?.status ?? 0);
        versions.add(response?.headers.get('x-version') ?? 'none');
        await response?.arrayBuffer();
      }
    })();
    const deployed = await push(repo('again'));
    expect(deployed.type).toBe('FunctionDeployed');
    await eventually(async () => versions.has('again'), 10_000, 'the new version');
    stop = true;
    await client;
    expect(answers.length).toBeGreaterThan(10);
    expect(answers.filter((status) => status !== 200)).toEqual([]);
    expect([...versions].sort()).toEqual(['again', 'hello']);
  });

  it('brings deployed functions back after a restart, without a new push', async () => {
    api.child.kill('SIGKILL');
    await new Promise((resolve) => api.child.once('exit', resolve));
    api = await start(env);
    gatewayUrl = await gatewayOf(api);
    await eventually(async () => (await fetch(`${gatewayUrl}/function/alexellis-hello`).catch(() => null))?.status === 200, 20_000, 'the function after restart');
    expect(((await (await fetch(`${gatewayUrl}/function/alexellis-hello`)).json()) as { greeting: string }).greeting).toBe('AGAIN!');
  });
});
