#!/usr/bin/env node
// The faasline command line: `faasline start` runs everything in one process (what `npm start` runs);
// `faasline push [path]` pushes a local git repository to it the way GitHub would, and follows it until live.
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const dist = (path) => join(root, 'dist', path);
const usage = `usage:
  faasline start                       run faasline (api, pipeline, embedded gateway) in this process
  faasline push [path] [--owner O] [--repo R] [--api URL]
                                       deliver a signed push for the HEAD of the git repository at path
  faasline replay [--api URL]          rebuild every read model from the event log beside the live ones, then swap
  faasline events [--type T] [--owner O] [--repo R] [--actor A] [--delivery ID] [--since ISO] [--until ISO]
                  [--follow] [--json] [--api URL]
                                       the event log (audit trail), oldest first; --follow keeps tailing it
  faasline functions [--json] [--gateway URL]
                                       the gateway's functions: name, image, replicas, invocations, endpoint
  faasline logs <function> [--since 10m|RFC3339] [--tail N] [--follow] [--gateway URL]
                                       a function's log lines; --follow keeps printing new ones`;

const [command, ...rest] = process.argv.slice(2);
if (command === 'start') {
  if (!existsSync(dist('apps/api/main.js'))) fail('faasline is not built yet: run npm run build (npm start builds it too)');
  await import(dist('apps/api/main.js'));
} else if (command === 'push') {
  await push(rest);
} else if (command === 'replay' || command === 'events') {
  const readSide = await import('./commands/read-side.js');
  process.exitCode = await readSide[command](rest, { fail, secret, apiUrl });
} else if (command === 'functions' || command === 'logs') {
  const gateway = await import('./commands/gateway.js');
  process.exitCode = await gateway[command](rest, { fail, secret });
} else {
  console.error(usage);
  process.exit(command === undefined || command === '--help' ? 0 : 2);
}

function fail(message) {
  console.error(`faasline: ${message}`);
  process.exit(1);
}

/** The faasline api: `--api`, else FAASLINE_API, else this machine's PORT. */
function apiUrl(flag) {
  return (flag ?? process.env.FAASLINE_API ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`).replace(/\/+$/, '');
}

/** A secret from the environment, else the file faasline created for it in DATA_DIR at its first start. */
function secret(variable, file) {
  if (process.env[variable]) return process.env[variable];
  const path = join(resolve(process.env.DATA_DIR ?? '.faasline'), 'secrets', file);
  if (!existsSync(path)) fail(`${variable} is not set and ${path} does not exist: start faasline first (npm start), or set ${variable}`);
  return readFileSync(path, 'utf8').trim();
}

async function push(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { owner: { type: 'string' }, repo: { type: 'string' }, api: { type: 'string' }, timeout: { type: 'string', default: '300' } },
  });
  const folder = resolve(positionals[0] ?? '.');
  const git = (...gitArgs) => execFileSync('git', gitArgs, { cwd: folder, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
  let gitDir;
  try {
    gitDir = resolve(folder, git('rev-parse', '--git-dir'));
  } catch {
    fail(`${folder} is not a git repository`);
  }
  const sha = git('rev-parse', 'HEAD');
  const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
  const owner = (values.owner ?? userInfo().username).toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const repo = (values.repo ?? basename(folder)).replace(/[^A-Za-z0-9._-]/g, '-');
  const api = apiUrl(values.api);
  const webhookSecret = secret('GITHUB_WEBHOOK_SECRET', 'github-webhook-secret');
  const adminToken = secret('ADMIN_TOKEN', 'admin-token');

  const { serveGitRepositories } = await import(dist('libs/infra/index.js'));
  const server = await serveGitRepositories({ resolve: (path) => (path === `${owner}/${repo}.git` ? gitDir : null) });
  const id = (text) => Number.parseInt(createHash('sha256').update(text).digest('hex').slice(0, 8), 16);
  const payload = JSON.stringify({
    ref: `refs/heads/${branch}`,
    before: '0'.repeat(40),
    after: sha,
    repository: {
      id: id(`${owner}/${repo}`),
      name: repo,
      full_name: `${owner}/${repo}`,
      private: false,
      owner: { login: owner, id: id(owner) },
      clone_url: `${server.url}/${owner}/${repo}.git`,
      default_branch: branch,
      // As GitHub does: tells this push from an earlier one of the same commit, which faasline records only once.
      pushed_at: Math.floor(Date.now() / 1000),
    },
    pusher: { name: owner },
    sender: { login: owner },
  });
  const deliveryId = randomUUID();
  try {
    console.log(`pushing ${owner}/${repo} ${branch}@${sha.slice(0, 7)} to ${api}`);
    let response;
    try {
      response = await fetch(`${api}/webhooks/github`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': deliveryId,
          'x-hub-signature-256': `sha256=${createHmac('sha256', webhookSecret).update(payload).digest('hex')}`,
        },
        body: payload,
      });
    } catch (error) {
      fail(`cannot reach faasline at ${api} (${error.cause?.code ?? error.message}): is it running? (npm start)`);
    }
    if (response.status !== 202) fail(`faasline answered ${response.status}: ${await response.text()}`);
    process.exitCode = await follow(api, adminToken, deliveryId, Number(values.timeout) * 1000);
  } finally {
    await server.close();
  }
}

/** Prints what the delivery causes as it happens; resolves with the exit code once the push settles. */
async function follow(api, adminToken, deliveryId, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let after = 0;
  const live = [];
  const failed = [];
  while (Date.now() < deadline) {
    const response = await fetch(`${api}/api/v1/deliveries/${deliveryId}/events?after=${after}`, { headers: { authorization: `Bearer ${adminToken}` } });
    if (!response.ok) fail(`following the push failed: ${response.status} ${await response.text()}`);
    for (const event of (await response.json()).items) {
      after = event.position;
      const d = event.data;
      switch (event.type) {
        case 'PushIgnored':
          console.log(`  ignored: ${d.reason}`);
          return 1;
        case 'SourceRejected':
          console.log(`  ✗ ${d.reason}`);
          return 1;
        case 'SourceFetched':
          console.log(`  ${d.stackFile}: ${d.functions.length} function(s)${d.rejected.length ? `, ${d.rejected.length} rejected` : ''}`);
          for (const rejection of d.rejected) {
            console.log(`  ✗ ${rejection.name}: ${rejection.reason}`);
            failed.push(rejection.name);
          }
          break;
        case 'BuildStarted':
          console.log(`  … ${d.name}: building`);
          break;
        case 'BuildReused':
          console.log(`  = ${d.name}: unchanged, reusing ${d.image}`);
          break;
        case 'BuildSucceeded':
          console.log(`  ✓ ${d.name}: built in ${(d.durationMs / 1000).toFixed(1)} s`);
          break;
        case 'BuildFailed':
          console.log(`  ✗ ${d.name}: build failed: ${d.reason}\n${d.logTail.split('\n').map((line) => `      ${line}`).join('\n')}`);
          failed.push(d.name);
          break;
        case 'DeployFailed':
          console.log(`  ✗ ${d.name}: ${d.reason}`);
          failed.push(d.name);
          break;
        case 'BuildSuperseded':
          console.log(`  - ${d.name}: superseded by ${d.supersededBy.slice(0, 7)}`);
          break;
        case 'FunctionDeployed':
          console.log(`  ✓ ${d.name}: live at ${d.endpoint}`);
          live.push(d.endpoint);
          break;
        case 'CommitStatusReported':
          if (d.context === 'stack-deploy' && d.state !== 'pending') {
            console.log(d.state === 'success' ? `done: ${live.length} function(s) live` : `failed: ${d.description}`);
            for (const endpoint of live) console.log(`  curl ${endpoint}`);
            return d.state === 'success' ? 0 : 1;
          }
          break;
        default:
          break;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.log(`still not settled after ${Math.round(timeoutMs / 1000)} s`);
  return 1;
}
