import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { gitFixtures, type GitFixtures, type RepoFiles } from '../../../test/support/git-repos.js';
import { bareEnv, root, start, gatewayOf, pushEnv, deliverCommit } from './support/spawn-api.js';

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
  'stack.yml':
    'provider:\n  name: openfaas\nfunctions:\n  hello:\n    lang: node20\n    handler: ./hello\n    image: hello:0.1\n    environment:\n      mode: test\n    secrets:\n      - api-key\n',
  'hello/handler.js': handler(greeting),
  'hello/package.json': '{"name":"hello","dependencies":{"shout":"file:./shout"}}\n',
  'hello/shout/package.json': '{"name":"shout","version":"1.0.0","main":"index.js"}\n',
  'hello/shout/index.js': 'module.exports = (text) => text.toUpperCase() + "!";\n',
});

/** A pure-Python wheel written by hand (a wheel is a zip with dist-info), so pip installs it offline. */
function buildWheel(folder: string): void {
  const script = `
import base64, hashlib, sys, zipfile
files = {
  "shoutpy/__init__.py": "def shout(text):\\n    return text.upper() + '!'\\n",
  "shoutpy-1.0.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: shoutpy\\nVersion: 1.0.0\\n",
  "shoutpy-1.0.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: faasline-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
with zipfile.ZipFile(sys.argv[1] + "/shoutpy-1.0.0-py3-none-any.whl", "w") as wheel:
  for name, text in files.items():
    data = text.encode()
    wheel.writestr(name, data)
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{name},sha256={digest},{len(data)}")
  record.append("shoutpy-1.0.0.dist-info/RECORD,,")
  wheel.writestr("shoutpy-1.0.0.dist-info/RECORD", "\\n".join(record) + "\\n")
`;
  execFileSync('python3', ['-c', script, folder]);
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
  let wheels: string;

  beforeAll(async () => {
    database = await provisionTestDatabase();
    db = await openDataSource(database.url);
    git = await gitFixtures();
    dataDir = mkdtempSync(join(tmpdir(), 'faasline-embedded-'));
    wheels = mkdtempSync(join(tmpdir(), 'faasline-wheels-'));
    buildWheel(wheels);
    // Builds run as an unprivileged uid: the operator's find-links folder must be readable to it.
    chmodSync(wheels, 0o755);
    env = {
      ...pushEnv(database, dataDir, git, secret),
      GATEWAY_PORT: '0',
      // PyPI is out of reach here: pip takes the test's own wheel, through pip's standard settings.
      PIP_FIND_LINKS: wheels,
      PIP_NO_INDEX: '1',
    };
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
    rmSync(wheels, { recursive: true, force: true });
  });

  /** Commits `files` to owner/repo and delivers the push; resolves with its delivery id once the api took it. */
  const deliver = async (repo: string, files: RepoFiles, owner = 'alexellis', ownerId?: number) => {
    const sha = git.commit(owner, repo, files);
    const deliveryId = await deliverCommit(api.url, secret, git, {
      owner,
      repo,
      sha,
      ...(ownerId ? { ownerId, repositoryId: ownerId } : {}),
    });
    return deliveryId;
  };
  /** How the push's functions ended so far: deployed, or failed to build or to deploy. */
  const outcomes = (deliveryId: string) =>
    db.query(`SELECT type, data FROM events WHERE correlation_id = $1 AND type IN ('FunctionDeployed', 'DeployFailed', 'BuildFailed')`, [
      deliveryId,
    ]);
  const push = async (files: RepoFiles, owner = 'alexellis', ownerId?: number) => {
    const deliveryId = await deliver('box', files, owner, ownerId);
    await eventually(async () => (await outcomes(deliveryId)).length > 0, 60_000, 'the deploy');
    return (await outcomes(deliveryId))[0];
  };

  it('serves the OpenFaaS API with basic auth and keeps secrets', async () => {
    expect((await fetch(`${gatewayUrl}/healthz`)).status).toBe(200);
    const refused = await fetch(`${gatewayUrl}/system/functions`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Basic realm="Restricted"');
    const created = await fetch(`${gatewayUrl}/system/secrets`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'alexellis-api-key', value: 's3cret' }),
    });
    expect(created.status).toBe(201);
    expect(await (await fetch(`${gatewayUrl}/system/secrets`, { headers: { authorization: auth } })).json()).toEqual([
      { name: 'alexellis-api-key', namespace: 'openfaas-fn' },
    ]);
    expect(await (await fetch(`${gatewayUrl}/system/info`, { headers: { authorization: auth } })).json()).toMatchObject({
      provider: { provider: 'faasline' },
    });
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
    expect(status).toMatchObject({
      name: 'alexellis-hello',
      replicas: 1,
      availableReplicas: 1,
      envVars: { mode: 'test' },
      labels: expect.objectContaining({ 'com.openfaas.cloud.git-repo': 'box' }),
    });
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

  it('counts the pushes so far in /metrics: webhook outcomes, node20 builds and their durations, deploys, step latencies', async () => {
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"+]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value('faasline_webhook_deliveries_total{outcome="recorded"}')).toBe(2);
    expect(value('faasline_builds_total{outcome="succeeded",lang="node20"}')).toBe(2);
    expect(value('faasline_build_duration_seconds_count{outcome="succeeded",lang="node20"}')).toBe(2);
    // Two builds with an npm install each take a measurable while, and not hours.
    expect(value('faasline_build_duration_seconds_sum{outcome="succeeded",lang="node20"}')).toBeGreaterThan(0.05);
    expect(value('faasline_build_duration_seconds_sum{outcome="succeeded",lang="node20"}')).toBeLessThan(240);
    expect(value('faasline_deploys_total{outcome="deployed"}')).toBe(2);
    expect(value('faasline_deploys_total{outcome="failed"}')).toBe(0);
    for (const step of ['fetch-source', 'build', 'deploy']) {
      expect(value(`faasline_pipeline_step_duration_seconds_count{step="${step}",outcome="done"}`)).toBeGreaterThanOrEqual(2);
      expect(value(`faasline_pipeline_step_duration_seconds_bucket{le="+Inf",step="${step}",outcome="done"}`)).toBe(
        value(`faasline_pipeline_step_duration_seconds_count{step="${step}",outcome="done"}`),
      );
    }
    expect(metrics).toMatch(/^process_resident_memory_bytes [1-9]/m);
  });

  it('logs JSON lines that name the push and the event each step worked for', async () => {
    const lines = api
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, string>);
    const packaged = lines.filter((line) => /^source alexellis\/box@[0-9a-f]{7}: 1 function\(s\) packaged/.test(line.msg!));
    expect(packaged).toHaveLength(2);
    for (const line of packaged) {
      expect(line).toMatchObject({ level: 'info', component: 'api', step: 'fetch-source', job: expect.any(String) });
      const [cause] = await db.query(`SELECT type, correlation_id FROM events WHERE event_id = $1`, [line.causationId]);
      expect(cause).toEqual({ type: 'PushReceived', correlation_id: line.correlationId });
    }
    expect(new Set(packaged.map((line) => line.correlationId)).size).toBe(2);
  });

  it('gives an owner whose login contains "-" its own secrets by the unprefixed name, and nobody else’s', async () => {
    const create = (name: string, value: string) =>
      fetch(`${gatewayUrl}/system/secrets`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name, value }),
      });
    // acme-labs's api-key, and what cutting at the first "-" would have taken for it: owner acme's labs-api-key.
    expect((await create('acme-labs-api-key', 'labs key')).status).toBe(201);
    expect((await create('labs-api-key', 'someone else')).status).toBe(201);
    const deployed = await push(repo('labs'), 'acme-labs', 90210);
    expect(deployed.type).toBe('FunctionDeployed');
    const answer = (await (await fetch(`${gatewayUrl}/function/acme-labs-hello`)).json()) as { key: string };
    expect(answer.key).toBe('labs key');
    const instances = join(dataDir, 'gateway', 'functions', 'acme-labs-hello');
    const [instance] = readdirSync(instances);
    expect(readdirSync(join(instances, instance!, 'secrets')).sort()).toEqual(['acme-labs-api-key', 'api-key']);
  });

  it('brings deployed functions back after a restart, without a new push', async () => {
    api.child.kill('SIGKILL');
    await new Promise((resolve) => api.child.once('exit', resolve));
    api = await start(env);
    gatewayUrl = await gatewayOf(api);
    await eventually(
      async () => (await fetch(`${gatewayUrl}/function/alexellis-hello`).catch(() => null))?.status === 200,
      20_000,
      'the function after restart',
    );
    expect(((await (await fetch(`${gatewayUrl}/function/alexellis-hello`)).json()) as { greeting: string }).greeting).toBe('AGAIN!');
  });

  it('runs handlers written for the classic node, python3-http and classic python3 templates unmodified', async () => {
    const stack = ['classic:node', 'pyhttp:python3-http', 'pyclassic:python3']
      .map((entry) => entry.split(':'))
      .map(
        ([fn, lang]) =>
          `  ${fn}:\n    lang: ${lang}\n    handler: ./${fn}\n    image: ${fn}\n    environment:\n      mode: ${fn}\n    secrets:\n      - api-key\n`,
      )
      .join('');
    const deliveryId = await deliver('polyglot', {
      'stack.yml': `provider:\n  name: openfaas\nfunctions:\n${stack}`,
      'classic/handler.js':
        "module.exports = (context, callback) => callback(undefined, { echo: context, mode: process.env.mode, key: require('fs').readFileSync('/var/openfaas/secrets/api-key', 'utf8') })\n",
      'pyhttp/handler.py':
        'import os\nfrom shoutpy import shout\n\ndef handle(event, context):\n    key = open("/var/openfaas/secrets/api-key").read()\n    return {"statusCode": 201, "body": {"shout": shout(event.body.decode()), "method": event.method, "mode": os.getenv("mode"), "key": key}, "headers": {"x-lang": "python3-http"}}\n',
      'pyhttp/requirements.txt': 'shoutpy==1.0.0\n',
      'pyclassic/handler.py': 'import os\n\ndef handle(req):\n    return "classic says " + req + " in " + os.getenv("mode")\n',
    });
    await eventually(async () => (await outcomes(deliveryId)).length === 3, 90_000, 'three deploys');
    expect((await outcomes(deliveryId)).filter((o: { type: string }) => o.type !== 'FunctionDeployed')).toEqual([]);

    const classic = await fetch(`${gatewayUrl}/function/alexellis-classic`, { method: 'POST', body: 'hi' });
    expect(await classic.json()).toEqual({ echo: 'hi', mode: 'classic', key: 's3cret' });
    const http = await fetch(`${gatewayUrl}/function/alexellis-pyhttp`, { method: 'POST', body: 'quiet' });
    expect(http.status).toBe(201);
    expect(http.headers.get('x-lang')).toBe('python3-http');
    expect(await http.json()).toEqual({ shout: 'QUIET!', method: 'POST', mode: 'pyhttp', key: 's3cret' });
    expect(await (await fetch(`${gatewayUrl}/function/alexellis-pyclassic`, { method: 'POST', body: 'hello' })).text()).toBe(
      'classic says hello in pyclassic\n',
    );
  });

  it('holds a python function to its memory limit: the default 128Mi, or the stack file’s limits.memory', async () => {
    const allocate =
      'def handle(event, context):\n    data = bytearray(int(event.query["mb"]) * 1024 * 1024)\n    return {"statusCode": 200, "body": str(len(data) // (1024 * 1024))}\n';
    const deliveryId = await deliver('memory', {
      'stack.yml':
        'provider:\n  name: openfaas\nfunctions:\n  small:\n    lang: python3-http\n    handler: ./small\n    image: small\n  roomy:\n    lang: python3-http\n    handler: ./roomy\n    image: roomy\n    limits:\n      memory: 384Mi\n',
      'small/handler.py': allocate,
      'roomy/handler.py': allocate,
    });
    await eventually(
      async () => (await outcomes(deliveryId)).filter((o: { type: string }) => o.type === 'FunctionDeployed').length === 2,
      60_000,
      'two deploys',
    );
    const call = async (fn: string, mb: number) => {
      const response = await fetch(`${gatewayUrl}/function/alexellis-${fn}?mb=${mb}`);
      return `${response.status} ${response.status === 200 ? await response.text() : '(failed)'}`;
    };
    expect(await call('small', 32)).toBe('200 32');
    expect(await call('small', 256)).toBe('500 (failed)');
    // The failed allocation did not take the function down with it.
    expect(await call('small', 32)).toBe('200 32');
    expect(await call('roomy', 256)).toBe('200 256');
    expect(await call('roomy', 512)).toBe('500 (failed)');
    const status128 = await (await fetch(`${gatewayUrl}/system/function/alexellis-small`, { headers: { authorization: auth } })).json();
    expect(status128).toMatchObject({ limits: { memory: '128Mi' }, availableReplicas: 1 });
  });

  it('faasline functions lists the gateway’s functions and faasline logs prints, filters and follows a function’s log', async () => {
    const deployed = await push({
      'stack.yml': 'provider:\n  name: openfaas\nfunctions:\n  talker:\n    lang: node20\n    handler: ./talker\n    image: talker:0.2\n',
      'talker/handler.js': 'module.exports = async (event) => { console.log("said " + event.query.word); return "ok" }\n',
    });
    expect(deployed.type).toBe('FunctionDeployed');
    // The CLI finds the embedded gateway from GATEWAY_PORT and its password in DATA_DIR, as after npm start.
    const cliEnv: NodeJS.ProcessEnv = { ...bareEnv(), DATA_DIR: dataDir, GATEWAY_PORT: new URL(gatewayUrl).port };
    delete cliEnv.OPENFAAS_URL;
    delete cliEnv.OPENFAAS_PASSWORD;
    const cli = async (...args: string[]) => {
      try {
        const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'bin/faasline.js'), ...args], { env: cliEnv });
        return { code: 0, output: stdout };
      } catch (error) {
        const failed = error as { code: number; stdout: string; stderr: string };
        return { code: failed.code, output: `${failed.stdout}${failed.stderr}` };
      }
    };
    const say = async (word: string) =>
      expect(await (await fetch(`${gatewayUrl}/function/alexellis-talker?word=${word}`)).text()).toBe('ok');
    await say('one');
    await say('two');

    const listed = await cli('functions');
    expect(listed.code).toBe(0);
    const lines = listed.output.trim().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['NAME', 'IMAGE', 'REPLICAS', 'INVOCATIONS', 'ENDPOINT']);
    const talker = lines.find((line) => line.startsWith('alexellis-talker '))!.split(/\s+/);
    expect(talker).toEqual([
      'alexellis-talker',
      'local/alexellis/box-talker:0.2-master-' + deployed.data.sha.slice(0, 7),
      '1/1',
      '2',
      `${gatewayUrl}/function/alexellis-talker`,
    ]);
    expect(JSON.parse((await cli('functions', '--json')).output)).toContainEqual(
      expect.objectContaining({ name: 'alexellis-talker', replicas: '1/1', invocations: '2' }),
    );

    await eventually(async () => (await cli('logs', 'alexellis-talker')).output.includes('said two'), 5000, 'the logged lines');
    const all = (await cli('logs', 'alexellis-talker')).output.trim().split('\n');
    expect(all.filter((line) => / said /.test(line)).map((line) => line.replace(/^\S+ alexellis-talker \([a-z0-9]+\) /, ''))).toEqual([
      'said one',
      'said two',
    ]);
    expect(Date.parse(all[0]!.split(' ')[0]!)).toBeGreaterThan(0);

    const marker = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await say('three');
    await eventually(
      async () => (await cli('logs', 'alexellis-talker', '--since', marker)).output.includes('said three'),
      5000,
      'the third line',
    );
    const since = (await cli('logs', 'alexellis-talker', '--since', marker)).output;
    expect(since).not.toMatch(/said (one|two)/);
    expect((await cli('logs', 'alexellis-talker', '--since', '1h')).output).toMatch(/said one[^]*said three/);
    expect((await cli('logs', 'alexellis-talker', '--tail', '1')).output.trim().split('\n')).toHaveLength(1);

    const follower = spawn(process.execPath, [join(root, 'bin/faasline.js'), 'logs', 'alexellis-talker', '--follow', '--since', marker], {
      env: cliEnv,
    });
    let followed = '';
    follower.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString()));
    try {
      await eventually(async () => followed.includes('said three'), 5000, 'the followed history');
      await say('four');
      await eventually(async () => followed.includes('said four'), 5000, 'a new line while following');
      expect(followed).not.toMatch(/said two/);
    } finally {
      follower.kill('SIGINT');
    }

    const missing = await cli('logs', 'alexellis-nobody');
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/no function named alexellis-nobody/);
    const refused = await promisify(execFile)(process.execPath, [join(root, 'bin/faasline.js'), 'functions'], {
      env: { ...cliEnv, OPENFAAS_PASSWORD: 'wrong' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/refused the credentials/) });
  });
});
