import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { gitFixtures, type GitFixtures, type RepoFiles } from '../../../test/support/git-repos.js';
import { bareEnv, start, gatewayOf, deliverCommit } from './support/spawn-api.js';

/**
 * A tenant as an attacker: embedded mode exactly as `npm start` runs it (embedded PostgreSQL, embedded gateway,
 * sandbox on), one function that tries every escape the issue names and reports what it reached, and a
 * bystander tenant whose function and secret must stay out of reach and keep answering throughout.
 */
const webhookSecret = 'hostile-webhook-secret';
const canary = `canary-${Math.random().toString(36).slice(2)}`;
const bystanderSecret = `bystander-${Math.random().toString(36).slice(2)}`;

/** Each attack answers {reached: [...what it got at...], errors: [...]}; an empty `reached` means it failed. */
const attacker = (dataDir: string) => `'use strict'
const fs = require('fs')
const path = require('path')
const net = require('net')
const { spawn } = require('child_process')
const dataDir = ${JSON.stringify(dataDir)}
const tryTo = (what, fn, reached, errors) => {
  try { const got = fn(); if (got !== undefined && got !== null && got !== false) reached.push(what + ': ' + String(got).slice(0, 300)) } catch (e) { errors.push(what + ': ' + (e.code || e.message)) }
}
const walk = (dir, depth, out) => {
  if (depth < 0 || out.length > 2000) return out
  let entries = []
  try { entries = fs.readdirSync(dir, { withFileTypes: true }) } catch { return out }
  for (const entry of entries) {
    const full = path.join(dir, entry.name)
    out.push(full)
    if (entry.isDirectory()) walk(full, depth - 1, out)
  }
  return out
}
const attacks = {
  'data-dir': (reached, errors) => {
    tryTo('list DATA_DIR', () => fs.readdirSync(dataDir).join(','), reached, errors)
    for (const name of ['admin-token', 'github-webhook-secret', 'openfaas-password', 'postgres-password']) {
      tryTo('read secrets/' + name, () => fs.readFileSync(path.join(dataDir, 'secrets', name), 'utf8'), reached, errors)
    }
    tryTo('write DATA_DIR', () => { fs.writeFileSync(path.join(dataDir, 'pwned'), 'x'); return 'wrote' }, reached, errors)
  },
  environ: (reached, errors) => {
    for (const pid of fs.readdirSync('/proc').filter((name) => /^\\d+$/.test(name))) {
      tryTo('environ of ' + pid, () => { const text = fs.readFileSync('/proc/' + pid + '/environ', 'utf8'); return text.includes('FAASLINE_CANARY') ? text : null }, reached, errors)
    }
    tryTo('own environment', () => (JSON.stringify(process.env).includes('FAASLINE_CANARY') ? 'canary in env' : null), reached, errors)
  },
  secrets: (reached, errors) => {
    for (const file of walk(path.join(dataDir, 'gateway'), 6, [])) {
      tryTo('read ' + file, () => fs.readFileSync(file, 'utf8'), reached, errors)
    }
    for (const file of walk('/var/openfaas/secrets', 2, [])) {
      tryTo('mounted ' + file, () => { const text = fs.readFileSync(file, 'utf8'); return text.startsWith('bystander-') ? text : null }, reached, errors)
    }
  },
  'write-code': (reached, errors) => {
    for (const file of [__filename, path.join(__dirname, '..', 'index.js'), path.join(process.cwd(), 'index.js')]) {
      tryTo('write ' + file, () => { fs.appendFileSync(file, '\\n// pwned\\n'); return 'wrote' }, reached, errors)
    }
  },
  database: async (reached, errors) => {
    // A PostgreSQL socket anywhere in view, or the server on its usual loopback port with the old default password.
    for (const dir of ['/tmp', '/run', '/var/run', '/run/postgresql', '/var/run/postgresql', '/var/lib/faasline', dataDir, path.join(dataDir, 'postgres')]) {
      for (const file of walk(dir, 2, [])) if (file.includes('.s.PGSQL')) reached.push('socket ' + file)
    }
    const port = Number(process.env.DB_PORT || 0)
    if (port) {
      const answer = await new Promise((resolve) => {
        const socket = net.connect(port, '127.0.0.1')
        const user = Buffer.from('user\\0postgres\\0database\\0postgres\\0\\0')
        const header = Buffer.alloc(8)
        header.writeInt32BE(8 + user.length, 0)
        header.writeInt32BE(196608, 4)
        socket.on('connect', () => socket.write(Buffer.concat([header, user])))
        socket.on('data', (data) => { socket.destroy(); resolve(data[0] === 0x52 && data.readInt32BE(5) === 0 ? 'trusted login as postgres' : null) })
        socket.on('error', (e) => { errors.push('connect: ' + e.code); resolve(null) })
        setTimeout(() => { socket.destroy(); resolve(null) }, 2000)
      })
      if (answer) reached.push(answer)
    }
  },
  'fork-bomb': async (reached, errors) => {
    const children = []
    try {
      for (let i = 0; i < 4000; i++) {
        const child = spawn('sleep', ['20'], { stdio: 'ignore' })
        children.push(child)
        await new Promise((resolve, reject) => { child.once('spawn', resolve); child.once('error', reject) })
      }
      reached.push('spawned ' + children.length + ' processes')
    } catch (e) {
      errors.push('spawn stopped after ' + children.length + ': ' + (e.code || e.message))
    }
    for (const child of children) child.kill('SIGKILL')
  },
  memory: (reached) => {
    const kept = []
    for (let i = 0; i < 1024; i++) kept.push(Buffer.alloc(1 << 20, i))
    reached.push('allocated ' + kept.length + ' MiB')
  },
}
module.exports = async (event, context) => {
  const reached = []
  const errors = []
  await attacks[event.query.attack](reached, errors)
  return context.status(200).succeed({ reached, errors, uid: process.getuid() })
}
`;

const bystander = `'use strict'
module.exports = async (event, context) => context.status(200).succeed('still here: ' + require('fs').readFileSync('/var/openfaas/secrets/db', 'utf8').length)
`;

const stack = (fn: string, extra = '') =>
  `provider:\n  name: openfaas\nfunctions:\n  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: ${fn}\n${extra}`;

describe('a hostile tenant on embedded faasline (sandbox on)', () => {
  let git: GitFixtures;
  let parent: string;
  let dataDir: string;
  let api: { child: ChildProcess; url: string; output: () => string };
  let gatewayUrl: string;
  let adminToken: string;
  let gatewayAuth: string;

  const deployed = async (owner: string, repo: string, files: RepoFiles) => {
    const sha = git.commit(owner, repo, files);
    const deliveryId = await deliverCommit(api.url, webhookSecret, git, { owner, repo, sha });
    const settled = async () => {
      const answer = await fetch(`${api.url}/api/v1/deliveries/${deliveryId}/events`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      const { items } = (await answer.json()) as { items: { type: string; data: { reason?: string } }[] };
      return items.find((event) => ['FunctionDeployed', 'DeployFailed', 'BuildFailed', 'SourceRejected'].includes(event.type)) ?? null;
    };
    await eventually(async () => (await settled()) !== null, 90_000, `${owner}/${repo} to settle`);
    const outcome = (await settled())!;
    expect(outcome).toMatchObject({ type: 'FunctionDeployed' });
  };

  const attack = async (name: string) => {
    const response = await fetch(`${gatewayUrl}/function/mallory-attack?attack=${name}`);
    return { status: response.status, body: await response.text() };
  };

  const bystanderAnswers = async () => {
    const response = await fetch(`${gatewayUrl}/function/alice-bystander`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(`still here: ${bystanderSecret.length}`);
  };

  beforeAll(async () => {
    git = await gitFixtures();
    // As on most fresh machines: the data folder sits inside a folder other users cannot enter.
    parent = mkdtempSync(join(tmpdir(), 'faasline-hostile-'));
    chmodSync(parent, 0o700);
    dataDir = join(parent, 'data');
    api = await start({
      ...bareEnv(),
      DATA_DIR: dataDir,
      GITHUB_WEBHOOK_SECRET: webhookSecret,
      GIT_ALLOWED_HOSTS: new URL(git.server.url).host,
      GATEWAY_PORT: '0',
      SANDBOX: 'required',
      FAASLINE_CANARY: canary,
    });
    gatewayUrl = await gatewayOf(api);
    adminToken = readFileSync(join(dataDir, 'secrets', 'admin-token'), 'utf8').trim();
    const password = readFileSync(join(dataDir, 'secrets', 'openfaas-password'), 'utf8').trim();
    gatewayAuth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
    const created = await fetch(`${gatewayUrl}/system/secrets`, {
      method: 'POST',
      headers: { authorization: gatewayAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'alice-db', value: bystanderSecret }),
    });
    expect(created.status).toBe(201);
    await deployed('alice', 'shop', { 'stack.yml': stack('bystander', '    secrets:\n      - db\n'), 'bystander/handler.js': bystander });
    await deployed('mallory', 'tools', { 'stack.yml': stack('attack'), 'attack/handler.js': attacker(dataDir) });
  }, 240_000);

  afterAll(async () => {
    api?.child.kill('SIGINT');
    await new Promise((resolve) => {
      api?.child.once('exit', resolve);
      setTimeout(resolve, 15_000);
    });
    await git?.close();
    // As root the cluster lives outside the 0700 parent, where the postgres user can reach it.
    const location = join(dataDir, 'postgres-location');
    if (existsSync(location)) rmSync(readFileSync(location, 'utf8').trim(), { recursive: true, force: true });
    rmSync(parent, { recursive: true, force: true });
  });

  it('runs the function as an unprivileged user', async () => {
    const { status, body } = await attack('environ');
    expect(status).toBe(200);
    expect(JSON.parse(body).uid).not.toBe(0);
  });

  it.each(['data-dir', 'environ', 'secrets', 'write-code', 'database'])('fails to %s, and nothing of the server leaks', async (name) => {
    const { status, body } = await attack(name);
    expect(status).toBe(200);
    expect(JSON.parse(body).reached).toEqual([]);
    for (const secret of [canary, bystanderSecret, adminToken, webhookSecret]) expect(body).not.toContain(secret);
    await bystanderAnswers();
  });

  it('contains a fork bomb to its own process limit while the server and other tenants answer', async () => {
    const { status, body } = await attack('fork-bomb');
    expect(status).toBe(200);
    const { reached, errors } = JSON.parse(body) as { reached: string[]; errors: string[] };
    expect(reached).toEqual([]);
    expect(errors.join('\n')).toMatch(/spawn stopped after \d+/);
    await bystanderAnswers();
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });

  it('stops a function that allocates past its memory limit with Buffers; it comes back, the others never left', async () => {
    const { status } = await attack('memory');
    expect(status).not.toBe(200);
    await bystanderAnswers();
    await eventually(async () => (await attack('write-code')).status === 200, 30_000, 'the attacker restarted');
  });
});
