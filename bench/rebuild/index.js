// Time from push to all-deployed for a repository of 20 functions when one changed, against a full rebuild of
// all 20 (every handler changed), measured in the same run with the same app, builder and gateway.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import pg from 'pg';
import { serveGitRepositories } from '../../dist/libs/infra/index.js';
import { freshDatabase, startPostgres } from '../postgres.js';
import { deliverPush, pushPayload } from '../faasline.js';

const FUNCTIONS = 20;
// With c parallel builds a full rebuild takes about 20/c builds and a one-function push at least one, so the
// ratio cannot go below c/20: 0.1 at the default of 2. Set BENCH_BUILD_CONCURRENCY to see another setting.
const CONCURRENCY = process.env.BENCH_BUILD_CONCURRENCY ?? '2';
const SECRET = 'bench-rebuild-secret';
const root = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'faasline-bench-rebuild-'));

// A node template in faas-cli's layout; each handler has a dependency for the local builder to install.
const templates = join(work, 'templates');
mkdirSync(join(templates, 'node20', 'function'), { recursive: true });
writeFileSync(join(templates, 'node20', 'template.yml'), 'language: node20\nfprocess: node index.js\n');
writeFileSync(join(templates, 'node20', 'index.js'), "const handler = require('./function/handler');\n");
writeFileSync(join(templates, 'node20', 'package.json'), '{"name":"node20","private":true}\n');

/** A repository of functions `names` in faas-cli's layout; the bench pushes `fns` (20 functions) and `solo` (one). */
function repository(name, names) {
  const dir = join(work, 'repos', 'bench', name);
  mkdirSync(dir, { recursive: true });
  const git = (...args) =>
    execFileSync('git', args, {
      cwd: dir,
      env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' },
    })
      .toString()
      .trim();
  git('init', '-q', '-b', 'master');
  writeFileSync(
    join(dir, 'stack.yml'),
    `provider:\n  name: openfaas\nfunctions:\n${names.map((fn) => `  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: ${fn}\n`).join('')}`,
  );
  return {
    name,
    writeHandler: (fn, version) => {
      mkdirSync(join(dir, fn, 'greeting'), { recursive: true });
      writeFileSync(join(dir, fn, 'handler.js'), `module.exports = async () => require('greeting')() + ' ${version}';\n`);
      writeFileSync(join(dir, fn, 'package.json'), `{"name":"${fn}","dependencies":{"greeting":"file:./greeting"}}\n`);
      writeFileSync(join(dir, fn, 'greeting', 'package.json'), '{"name":"greeting","version":"1.0.0","main":"index.js"}\n');
      writeFileSync(join(dir, fn, 'greeting', 'index.js'), "module.exports = () => 'hello';\n");
    },
    commit: (message) => {
      git('add', '-A');
      git('commit', '-q', '-m', message);
      return git('rev-parse', 'HEAD');
    },
  };
}
const names = Array.from({ length: FUNCTIONS }, (_, i) => `fn${i + 1}`);
const fns = repository('fns', names);
const solo = repository('solo', ['single']);

// A gateway that accepts deploys as OpenFaaS does (PUT, then POST when unknown) and has each replica ready at once:
// the bench measures faasline. Every deploy it takes would restart the function's pods on faas-netes.
const functions = new Map();
let gatewayDeploys = 0;
const gateway = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    if (request.url === '/system/functions' && request.method === 'GET') return response.end(JSON.stringify([...functions.values()]));
    if (request.url === '/system/functions' && (request.method === 'PUT' || request.method === 'POST')) {
      const deployment = JSON.parse(body);
      if (request.method === 'PUT' && !functions.has(deployment.service)) return response.writeHead(404).end();
      functions.set(deployment.service, { ...deployment, name: deployment.service, replicas: 1, availableReplicas: 1 });
      gatewayDeploys += 1;
      return response.writeHead(202).end();
    }
    const status = /^\/system\/function\/([^/?]+)/.exec(request.url ?? '');
    if (status && request.method === 'GET') {
      const found = functions.get(decodeURIComponent(status[1]));
      return found ? response.end(JSON.stringify(found)) : response.writeHead(404).end();
    }
    if (request.url === '/system/secrets') return response.end('[]');
    response.writeHead(404).end();
  });
});
await new Promise((resolve) => gateway.listen(0, '127.0.0.1', resolve));

const server = await startPostgres();
const database = await freshDatabase(server.url);
const gitServer = await serveGitRepositories({ resolve: (path) => join(work, 'repos', path.replace(/\.git$/, ''), '.git') });
const api = spawn(process.execPath, [join(root, 'dist/apps/api/main.js')], {
  cwd: root,
  env: {
    ...process.env,
    PORT: '0',
    KAFKA_BROKERS: '',
    DATABASE_URL: database.url,
    DATA_DIR: join(work, 'data'),
    GITHUB_WEBHOOK_SECRET: SECRET,
    GIT_ALLOWED_HOSTS: new URL(gitServer.url).host,
    TEMPLATES_DIR: templates,
    OPENFAAS_URL: `http://127.0.0.1:${gateway.address().port}`,
    OPENFAAS_PASSWORD: 'x',
    BUILD_CONCURRENCY: CONCURRENCY,
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise((resolve, reject) => {
  let output = '';
  api.stdout.on('data', (chunk) => {
    output += chunk;
    const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
    if (match) resolve(match[1]);
  });
  api.once('exit', (code) => reject(new Error(`api exited ${code}`)));
});
const client = new pg.Client({ connectionString: database.url });
await client.connect();

async function pushAndWait(sha, name = 'fns') {
  const deploysBefore = gatewayDeploys;
  const payload = pushPayload({
    owner: 'bench',
    repo: name,
    repoId: name === 'fns' ? 1 : 2,
    sha,
    cloneUrl: `${gitServer.url}/bench/${name}.git`,
  });
  const started = performance.now();
  const deliveryId = await deliverPush(url, SECRET, payload);
  for (;;) {
    const { rows } = await client.query(
      `SELECT data->>'state' AS state, data->>'description' AS description FROM events
        WHERE correlation_id = $1 AND type = 'CommitStatusReported' AND data->>'context' = 'stack-deploy' AND data->>'state' <> 'pending'`,
      [deliveryId],
    );
    if (rows.length > 0) {
      if (rows[0].state !== 'success') throw new Error(`push failed: ${rows[0].description}`);
      const { rows: counts } = await client.query(
        `SELECT count(*) FILTER (WHERE type = 'BuildStarted')::int AS built, count(*) FILTER (WHERE type = 'BuildReused')::int AS reused,
                count(*) FILTER (WHERE type = 'FunctionDeployed')::int AS deployed FROM events WHERE correlation_id = $1`,
        [deliveryId],
      );
      const { rows: marks } = await client.query(
        `SELECT type, min(occurred_at) AS first, max(occurred_at) AS last FROM events WHERE correlation_id = $1 GROUP BY type ORDER BY min(occurred_at)`,
        [deliveryId],
      );
      const origin = marks[0].first.getTime();
      const timeline = marks
        .map((m) => `${m.type} ${m.first.getTime() - origin}${m.last > m.first ? `-${m.last.getTime() - origin}` : ''}ms`)
        .join(', ');
      return { seconds: (performance.now() - started) / 1000, ...counts[0], gatewayDeploys: gatewayDeploys - deploysBefore, timeline };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

try {
  names.forEach((fn) => fns.writeHandler(fn, 'v1'));
  const warm = await pushAndWait(fns.commit('v1'));
  const report = (what, push) =>
    console.log(
      `${what.padEnd(37)}${push.seconds.toFixed(2)} s  built ${push.built}, reused ${push.reused}, deployed ${push.deployed}, gateway deploys ${push.gatewayDeploys}`,
    );
  report('warm-up (first push, 20 functions):', warm);
  names.forEach((fn) => fns.writeHandler(fn, 'v2'));
  const full = await pushAndWait(fns.commit('all 20 changed'));
  report('full rebuild (all 20 changed):', full);
  fns.writeHandler('fn7', 'v3');
  const one = await pushAndWait(fns.commit('one changed'));
  report('one function changed:', one);
  console.log(`  where the time went: ${one.timeline}`);
  // The floor for one changed function: a repository that has only that one, its second push (warm as above).
  solo.writeHandler('single', 'v1');
  await pushAndWait(solo.commit('v1'), 'solo');
  solo.writeHandler('single', 'v2');
  const single = await pushAndWait(solo.commit('v2'), 'solo');
  report('one-function repository, changed:', single);
  const restarts = one.gatewayDeploys - 1;
  const ratio = one.seconds / single.seconds;
  console.log(
    `one changed / full rebuild: ${(one.seconds / full.seconds).toFixed(3)}; builder: local (npm install per handler), BUILD_CONCURRENCY=${CONCURRENCY}`,
  );
  console.log(
    `one of 20 changed / one-function push: ${ratio.toFixed(2)} (goal <= 1.2: ${ratio <= 1.2 ? 'yes' : 'NO'}); ` +
      `the other 19 sent to the gateway again (restarted): ${restarts} (goal 0: ${restarts === 0 ? 'yes' : 'NO'})`,
  );
} finally {
  await client.end();
  api.kill('SIGINT');
  await new Promise((resolve) => api.once('exit', resolve));
  await gitServer.close();
  gateway.close();
  await database.drop();
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
