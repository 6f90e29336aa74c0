import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GatewayClient, GatewayFunctionCrashed, LocalBuilder, openSandbox } from '#infra';
import type { EmbeddedGateway } from '../src/embedded-gateway.js';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { buildRequestFor, buildToEnd, packageHandler } from '../../../test/support/build-context.js';
import { alive, systemRequest, testGateway } from './support/test-gateway.js';

const templates = fileURLToPath(new URL('../../../templates', import.meta.url));
let work: string;
let gateway: EmbeddedGateway;
let url: string;
let marks: string;

/** Builds `files` (the handler folder) with the built-in template `lang` into an image `image`. */
async function build(name: string, lang: string, files: Readonly<Record<string, string>>): Promise<string> {
  const repo = join(work, `repo-${name}`);
  mkdirSync(join(repo, 'fn'), { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(repo, 'fn', file), text);
  const context = await packageHandler({ repoDir: repo, templateRoot: templates, cacheDir: join(work, 'templates'), lang });
  const image = `local/alexellis/fns-${name}:latest-master-abcdef0`;
  await buildToEnd(
    new LocalBuilder(join(work, 'data', 'images'), join(work, 'npm-cache')),
    buildRequestFor(context, { buildId: name, owner: '1001', name, image, lang }),
  );
  return image;
}

const deploy = (service: string, image: string, envVars: Record<string, string>, envProcess = 'node index.js') =>
  systemRequest(url, 'POST', '/system/functions', { service, image, envVars, envProcess });
const call = async (name: string, body = '', query = '') => {
  const response = await fetch(`${url}/function/${name}${query}`, { method: 'POST', body });
  return `${response.status} ${await response.text()}`;
};
/** The pid a held call wrote to `<marks>/<mark>` once it started. */
const pidOf = async (mark: string) => {
  const file = join(marks, mark);
  await eventually(async () => existsSync(file) && readFileSync(file, 'utf8').trim() !== '', 20_000, `the call ${mark} to start`);
  return Number(readFileSync(file, 'utf8').trim());
};

const PY_PRINTS = `import os, sys, time

def handle(req):
    if req.startswith("hold"):
        try:
            open(os.path.join(MARKS, req), "w").write(str(os.getpid()))
        except OSError:
            pass  # in the sandbox, the test's folder is out of sight
        time.sleep(60)
    print("printed " + req)
    sys.stdout.flush()
    time.sleep(0.2)
    print("query " + os.getenv("Http_Query", "-"))
    sys.stderr.write("to the log\\n")
`;
const NODE_WRITES = `'use strict'
const fs = require('fs')
module.exports = (context, callback) => {
  if (context.startsWith('hold')) {
    try {
      fs.writeFileSync(require('path').join(MARKS, context), String(process.pid))
    } catch {} // in the sandbox, the test's folder is out of sight
    return setTimeout(() => callback(undefined, 'late'), 60000)
  }
  console.log('logged ' + context)
  process.stdout.write('written ' + context + '\\n')
  setTimeout(() => callback(undefined, { result: context }), 100)
}
`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'faasline-watchdog-'));
  marks = join(work, 'marks');
  mkdirSync(marks, { mode: 0o777 });
  const [py, node, http, crash, nodeCrash, leaky] = await Promise.all([
    build('alexellis-py', 'python3', { 'handler.py': `MARKS = ${JSON.stringify(marks)}\n${PY_PRINTS}`, 'requirements.txt': '' }),
    build('alexellis-node', 'node', { 'handler.js': `const MARKS = ${JSON.stringify(marks)}\n${NODE_WRITES}` }),
    build('alexellis-http', 'node20', {
      'handler.js': `const fs = require('fs')\nmodule.exports = async (event) => {\n  if (event.query.hold) { fs.writeFileSync(${JSON.stringify(marks)} + '/' + event.query.hold, String(process.pid)); await new Promise((r) => setTimeout(r, 60000)) }\n  return 'quick'\n}\n`,
    }),
    build('alexellis-crash', 'python3', {
      'handler.py': 'raise RuntimeError("no DATABASE_URL set")\n\ndef handle(req):\n    return req\n',
      'requirements.txt': '',
    }),
    build('alexellis-nodecrash', 'node', { 'handler.js': "throw new Error('config missing')\n" }),
    build('alexellis-leaky', 'node', {
      'handler.js': "throw new Error('rejected key ' + require('fs').readFileSync('/var/openfaas/secrets/alexellis-api-key', 'utf8'))\n",
    }),
  ]);
  gateway = testGateway({ dataDir: join(work, 'data') });
  url = await gateway.start(0);
  expect((await deploy('alexellis-py', py, { exec_timeout: '2s' }, 'python3 index.py')).status).toBe(202);
  expect((await deploy('alexellis-node', node, { exec_timeout: '2s' })).status).toBe(202);
  expect((await deploy('alexellis-http', http, { exec_timeout: '2s' })).status).toBe(202);
  Object.assign(images, { py, node, http, crash, nodeCrash, leaky });
}, 240_000);
const images: Record<string, string> = {};
afterAll(async () => {
  await gateway?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('classic templates on the embedded gateway (the classic watchdog: standard output is the response)', () => {
  it('python3: what the handler prints is the answer, with the request’s query in Http_Query; stderr is not', async () => {
    expect(await call('alexellis-py', 'hi', '?a=1')).toBe('200 printed hi\nquery a=1\n');
  });

  it('python3: concurrent calls each answer their own output, never the other’s', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => call('alexellis-py', `n${i}`)));
    expect(answers).toEqual(Array.from({ length: 6 }, (_, i) => `200 printed n${i}\nquery -\n`));
  });

  it('node: what the handler writes to stdout, then its result (objects as JSON), concurrently too', async () => {
    const answers = await Promise.all(['a', 'b', 'c'].map((word) => call('alexellis-node', word)));
    expect(answers).toEqual(['a', 'b', 'c'].map((word) => `200 logged ${word}\nwritten ${word}\n{"result":"${word}"}\n`));
  });

  it('cuts a classic call at exec_timeout with the classic watchdog’s 408, and ends its process; a quick call still answers', async () => {
    for (const name of ['alexellis-py', 'alexellis-node']) {
      const held = call(name, `hold-${name}`);
      const pid = await pidOf(`hold-${name}`);
      expect(await held).toBe('408 Killed process.\n');
      await eventually(async () => !alive(pid), 10_000, `the cut call's process ${pid} to end`);
      expect(await call(name, 'quick')).toMatch(/^200 /);
    }
  });

  it('cuts an HTTP template’s call at exec_timeout with of-watchdog’s 504, and replaces the instance still running it', async () => {
    const held = call('alexellis-http', '', '?hold=http');
    const pid = await pidOf('http');
    expect(await held).toBe('504 function alexellis-http did not answer within 2s');
    expect(await call('alexellis-http')).toBe('200 quick');
    await eventually(async () => !alive(pid), 20_000, `the instance ${pid} running the cut call to end`);
    expect(await call('alexellis-http')).toBe('200 quick');
  });
});

describe('the other bounds of a call', () => {
  it('answers 408 to a request that does not arrive within read_timeout', async () => {
    expect((await deploy('alexellis-reader', images.http!, { read_timeout: '1s' })).status).toBe(202);
    const answer = await new Promise<string>((resolve, reject) => {
      const sending = request(`${url}/function/alexellis-reader`, { method: 'POST', headers: { 'content-length': '10' } }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve(`${response.statusCode} ${text}`));
      });
      sending.on('error', reject);
      // Half of the body, and never the rest.
      sending.write('12345');
    });
    expect(answer).toBe('408 function alexellis-reader: the request was not received within 1s');
  });

  it('ends a classic call’s process when its caller goes away', async () => {
    expect((await deploy('alexellis-pylong', images.py!, {}, 'python3 index.py')).status).toBe(202);
    const caller = new AbortController();
    const held = fetch(`${url}/function/alexellis-pylong`, { method: 'POST', body: 'hold-gone', signal: caller.signal }).catch(() => null);
    const pid = await pidOf('hold-gone');
    caller.abort();
    await held;
    await eventually(async () => !alive(pid), 10_000, `the call's process ${pid} to end with its caller gone`);
  });
});

describe('a function that crashes at start', () => {
  it.each([
    ['python3', 'alexellis-crash', 'crash', /RuntimeError: no DATABASE_URL set/, 'python3 index.py'],
    ['node', 'alexellis-nodecrash', 'nodeCrash', /Error: config missing/, 'node index.js'],
  ])('is reported at once with its output (%s), and nothing of it is kept', async (_, name, image, error, envProcess) => {
    const client = new GatewayClient({ url, user: 'admin', password: 'pw' });
    const deploying = client.deploy({
      service: name,
      image: images[image]!,
      envProcess,
      envVars: {},
      constraints: [],
      secrets: [],
      labels: {},
      annotations: {},
      limits: {},
      readOnlyRootFilesystem: false,
    });
    await expect(deploying).rejects.toBeInstanceOf(GatewayFunctionCrashed);
    const crashed = (await deploying.catch((failure: unknown) => failure)) as GatewayFunctionCrashed;
    expect(crashed.exit).toBe('exit code 1');
    expect(crashed.output.join('\n')).toMatch(error);
    expect((await systemRequest(url, 'GET', `/system/function/${name}`)).status).toBe(404);
  });
});

describe('the output of a crash at start', () => {
  it('never carries the values of the function’s secrets', async () => {
    expect((await systemRequest(url, 'POST', '/system/secrets', { name: 'alexellis-api-key', value: 'sk-live-123456' })).status).toBe(201);
    const client = new GatewayClient({ url, user: 'admin', password: 'pw' });
    const crashed = (await client
      .deploy({
        service: 'alexellis-leaky',
        image: images.leaky!,
        envProcess: 'node index.js',
        envVars: {},
        constraints: [],
        secrets: ['alexellis-api-key'],
        labels: {},
        annotations: {},
        limits: {},
        readOnlyRootFilesystem: false,
      })
      .catch((failure: unknown) => failure)) as GatewayFunctionCrashed;
    expect(crashed).toBeInstanceOf(GatewayFunctionCrashed);
    expect(crashed.output.join('\n')).toMatch(/Error: rejected key \[redacted\]/);
    expect(crashed.output.join('\n')).not.toMatch(/sk-live-123456/);
  });
});

describe('classic templates in the sandbox', () => {
  let boxed: EmbeddedGateway;
  let boxedUrl: string;
  beforeAll(async () => {
    const { sandbox } = await openSandbox({ mode: 'required', uidBase: 63900 });
    boxed = testGateway({ dataDir: join(work, 'boxed'), imagesDir: join(work, 'data', 'images'), sandbox });
    boxedUrl = await boxed.start(0);
    for (const [service, image, envProcess] of [
      ['alexellis-py', images.py!, 'python3 index.py'],
      ['alexellis-node', images.node!, 'node index.js'],
    ] as const) {
      const response = await systemRequest(boxedUrl, 'POST', '/system/functions', {
        service,
        image,
        envProcess,
        envVars: { exec_timeout: '2s' },
      });
      expect(response.status).toBe(202);
    }
  }, 60_000);
  afterAll(async () => {
    await boxed?.stop();
  });
  const boxedCall = async (name: string, body: string) => {
    const response = await fetch(`${boxedUrl}/function/${name}`, { method: 'POST', body });
    return `${response.status} ${await response.text()}`;
  };

  it('answer with what the call printed, and a call cut at exec_timeout ends with the classic 408', async () => {
    expect(await boxedCall('alexellis-py', 'boxed')).toBe('200 printed boxed\nquery -\n');
    expect(await boxedCall('alexellis-node', 'boxed')).toBe('200 logged boxed\nwritten boxed\n{"result":"boxed"}\n');
    expect(await boxedCall('alexellis-py', 'hold-boxed')).toBe('408 Killed process.\n');
    expect(await boxedCall('alexellis-node', 'hold-boxed')).toBe('408 Killed process.\n');
    expect(await boxedCall('alexellis-py', 'after')).toBe('200 printed after\nquery -\n');
  });
});
