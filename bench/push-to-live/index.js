// Push to live on one machine: seconds from the webhook's 202 to the new version of a node20 hello-world
// answering at /function/<name> on the embedded gateway, with a per-stage breakdown from the delivery's events,
// against the floor measured in the same run: the same clone, the same npm install and the same template
// process started by hand. Then memory: the faasline process's own RSS idle and with 20 functions deployed, and
// what each function adds. The sandbox's cost: unless SANDBOX names one mode, two servers run side by side, one
// with SANDBOX=off and one with SANDBOX=required, and every push goes to both in turn (same commit, same load).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { serveGitRepositories } from '../../dist/libs/infra/index.js';
import { freshDatabase, startPostgres } from '../postgres.js';
import { answered, builtinTemplate, deliverPush, pushPayload, startFaasline } from '../faasline.js';

const PUSHES = Number(process.env.BENCH_PUSHES ?? 7);
// BENCH_CHANGE_DEPENDENCY=1: every push also changes the (local) dependency, so faasline installs each time too.
const CHANGE_DEPENDENCY = Boolean(process.env.BENCH_CHANGE_DEPENDENCY);
const FUNCTIONS = 20;
const SECRET = 'bench-push-to-live-secret';
const OWNER = 'bench';
const REPO = 'hello';
const work = mkdtempSync(join(tmpdir(), 'faasline-bench-live-'));
const run = promisify(execFile);
// What the local builder passes to npm: PATH and npm's own settings (registry, proxies, certificates).
const toolEnvironment = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => name === 'PATH' || /^(npm_config_|PIP_)/i.test(name) || /^(HTTPS?_PROXY|NO_PROXY|NODE_EXTRA_CA_CERTS)$/i.test(name),
  ),
);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// The repository: a node20 handler with one small dependency (a local package, so npm's install is real work
// that needs no network, like a dependency already in the npm cache).
const repo = join(work, 'repos', OWNER, REPO);
mkdirSync(repo, { recursive: true });
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
const git = (...args) => execFileSync('git', args, { cwd: repo, env: gitEnv }).toString().trim();
git('init', '-q', '-b', 'master');
const writeHandler = (fn, answer) => {
  mkdirSync(join(repo, fn, 'greeting'), { recursive: true });
  writeFileSync(
    join(repo, fn, 'handler.js'),
    `'use strict'\nconst greeting = require('greeting')\nmodule.exports = async (event, context) => context.status(200).succeed(greeting('${answer}'))\n`,
  );
  writeFileSync(
    join(repo, fn, 'package.json'),
    `{"name":"${fn}","version":"1.0.0","main":"handler.js","dependencies":{"greeting":"file:./greeting"}}\n`,
  );
  writeFileSync(join(repo, fn, 'greeting', 'package.json'), '{"name":"greeting","version":"1.0.0","main":"index.js"}\n');
  writeFileSync(
    join(repo, fn, 'greeting', 'index.js'),
    `module.exports = (name) => 'Hello, ' + name + '!'\n${CHANGE_DEPENDENCY ? `// ${answer}\n` : ''}`,
  );
};
const writeStack = (fns) =>
  writeFileSync(
    join(repo, 'stack.yml'),
    `provider:\n  name: openfaas\nfunctions:\n${fns.map((fn) => `  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: ${fn}\n`).join('')}`,
  );
const commit = (message) => {
  git('add', '-A');
  git('commit', '-q', '-m', message);
  return git('rev-parse', 'HEAD');
};

const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });

/** VmRSS and VmHWM of a process, in MB. */
function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Child processes of `pid` with their command lines. */
function children(pid) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid)
        found.push({ pid: Number(entry), command: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim() });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const server = await startPostgres();
const gitServer = await serveGitRepositories({ resolve: (path) => join(work, 'repos', path.replace(/\.git$/, ''), '.git') });
const cloneUrl = `${gitServer.url}/${OWNER}/${REPO}.git`;
const databases = [];

/** One faasline (`npm start`'s main.ts) with its own database and DATA_DIR. */
async function startApi(sandbox) {
  const database = await freshDatabase(server.url);
  databases.push(database);
  const dataDir = join(work, `data-${sandbox}`);
  const started = Object.assign(
    await startFaasline({ databaseUrl: database.url, dataDir, secret: SECRET, gitHost: new URL(gitServer.url).host, sandbox }),
    { sandbox },
  );
  const how = /sandbox: (on \([^)]*\)[^\n"]*|off[^\n"]*)/.exec(started.output)?.[1] ?? 'not reported';
  console.log(`SANDBOX=${sandbox}: ${how}`);
  return Object.assign(started, { adminToken: readFileSync(join(dataDir, 'secrets', 'admin-token'), 'utf8').trim() });
}

const servers = process.env.SANDBOX ? [await startApi(process.env.SANDBOX)] : [await startApi('off'), await startApi('required')];
// The floor and the memory figures are taken against the last one (sandboxed, unless SANDBOX says otherwise).
const { api, url, gatewayUrl, adminToken } = servers.at(-1);
const output = () => servers.map((one) => `[SANDBOX=${one.sandbox}]\n${one.output}`).join('\n');

async function deliver(sha, target = servers.at(-1)) {
  const payload = pushPayload({ owner: OWNER, repo: REPO, sha, cloneUrl });
  const deliveryId = await deliverPush(target.url, SECRET, payload);
  return { deliveryId, acceptedAt: performance.now(), acceptedWall: Date.now() };
}

const deliveryEvents = async (deliveryId, target = servers.at(-1)) =>
  (
    await (
      await fetch(`${target.url}/api/v1/deliveries/${deliveryId}/events`, { headers: { authorization: `Bearer ${target.adminToken}` } })
    ).json()
  ).items;

let pushCount = 0;
/** Commits `fn` answering `answer`, pushes it to every server in turn; resolves with each one's time to that answer. */
async function pushToLive(fn, answer) {
  writeHandler(fn, answer);
  const sha = commit(answer);
  // Each push goes first to one server, then the other, alternately: the second one runs while the first one still
  // finishes (the old version drained and stopped, statuses, read models), so a fixed order would favour one of them.
  pushCount += 1;
  const order = pushCount % 2 === 0 ? [...servers].reverse() : servers;
  const results = new Map();
  for (const target of order) results.set(target, await pushOne(target, sha, fn, answer));
  return servers.map((target) => results.get(target));
}

async function pushOne(target, sha, fn, answer) {
  const { deliveryId, acceptedAt, acceptedWall } = await deliver(sha, target);
  let live;
  try {
    // Calling the function every few ms through the whole push would load the 2 cores faasline builds on (the
    // floor is not called until its process starts): the build's end is awaited at a gentler pace first.
    const deadline = performance.now() + 60_000;
    while (
      !(await deliveryEvents(deliveryId, target)).some((e) => /^Build(Succeeded|Reused|Failed)$/.test(e.type)) &&
      performance.now() < deadline
    )
      await sleep(25);
    live = await answered(`${target.gatewayUrl}/function/${OWNER}-${fn}`, `Hello, ${answer}!`);
  } catch (error) {
    const events = await deliveryEvents(deliveryId, target);
    throw new Error(
      `${error.message}\nthe delivery's events: ${events.map((e) => `${e.type}${e.data.reason ? ` (${e.data.reason})` : ''}`).join(', ')}`,
      { cause: error },
    );
  }
  const seconds = (live - acceptedAt) / 1000;
  // The gateway switches traffic before it answers the deploy, so FunctionDeployed may land just after.
  let events = await deliveryEvents(deliveryId, target);
  for (let tries = 0; !events.some((e) => e.type === 'FunctionDeployed') && tries < 500; tries++) {
    await sleep(10);
    events = await deliveryEvents(deliveryId, target);
  }
  const at = (type) => {
    const event = events.find((e) => e.type === type && (e.data.name === undefined || e.data.name === `${OWNER}-${fn}`));
    return event ? Date.parse(event.occurredAt) : Number.NaN;
  };
  const received = at('PushReceived');
  const marks = {
    PushReceived: 0,
    SourceFetched: at('SourceFetched') - received,
    BuildStarted: at('BuildStarted') - received,
    BuildSucceeded: at('BuildSucceeded') - received,
    FunctionDeployed: at('FunctionDeployed') - received,
    answering: Math.round(acceptedWall + (live - acceptedAt) - received),
  };
  const build = events.find((e) => e.type === 'BuildSucceeded');
  return { seconds, marks, buildId: build?.data.buildId };
}

/** The same work by hand: clone the commit over the same loopback HTTP, lay out template + handler, npm install, start, wait for the answer. */
async function floor(fn, answer, index, { reuseInstall = false } = {}) {
  const dir = join(work, 'floor', String(index));
  const started = performance.now();
  const marks = {};
  // Asynchronously: the git server runs in this process, a synchronous clone would wait for itself.
  await run('git', ['clone', '-q', '--depth', '1', '--no-tags', cloneUrl, join(dir, 'src')], { env: gitEnv });
  marks.clone = performance.now() - started;
  const app = join(dir, 'app');
  cpSync((await builtinTemplate('node20', join(work, 'template-cache'))).dir, app, { recursive: true });
  cpSync(join(dir, 'src', fn), join(app, 'function'), { recursive: true });
  if (reuseInstall) {
    // The like-for-like floor when the dependencies did not change: the earlier install copied in.
    cpSync(join(work, 'floor-node-modules'), join(app, 'function', 'node_modules'), { recursive: true, verbatimSymlinks: true });
  } else
    await run(
      'npm',
      [
        'install',
        '--omit=dev',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--no-update-notifier',
        '--cache',
        join(work, 'floor-npm-cache'),
      ],
      {
        cwd: join(app, 'function'),
        env: { ...toolEnvironment, HOME: join(app, 'function'), npm_config_loglevel: 'warn' },
      },
    );
  if (!existsSync(join(work, 'floor-node-modules')))
    cpSync(join(app, 'function', 'node_modules'), join(work, 'floor-node-modules'), { recursive: true, verbatimSymlinks: true });
  marks.install = performance.now() - started - marks.clone;
  const port = await freePort();
  const child = spawn(process.execPath, ['index.js'], { cwd: app, env: { PATH: process.env.PATH, PORT: String(port) }, stdio: 'ignore' });
  try {
    const live = await answered(`http://127.0.0.1:${port}/`, `Hello, ${answer}!`);
    marks.start = live - started - marks.clone - marks.install;
    return { seconds: (live - started) / 1000, marks };
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const mb = (value) => `${value.toFixed(0)} MB`;
try {
  await sleep(2000);
  const idle = memory(api.pid);
  console.log(`faasline process idle: RSS ${mb(idle.rss)} (peak so far ${mb(idle.hwm)})`);

  writeStack(['fn1']);
  await pushToLive('fn1', 'warm-up');
  await floor('fn1', 'warm-up', 0);

  const pushes = [];
  const comparison = [];
  const floors = [];
  const reusedFloors = [];
  for (let i = 1; i <= PUSHES; i++) {
    const results = await pushToLive('fn1', `v${i}`);
    const push = results.at(-1);
    pushes.push(push);
    comparison.push(results);
    const hand = await floor('fn1', `v${i}`, i);
    floors.push(hand);
    const reused = await floor('fn1', `v${i}`, i, { reuseInstall: true });
    reusedFloors.push(reused);
    const stages = Object.entries(push.marks)
      .sort(([, a], [, b]) => a - b)
      .slice(1);
    console.log(
      `push ${i}: ${push.seconds.toFixed(2)} s  ${stages.map(([stage, ms]) => `${stage} +${ms}`).join(' ')} | floor ${hand.seconds.toFixed(2)} s, with the install reused ${reused.seconds.toFixed(2)} s`,
    );
  }
  const pushMedian = median(pushes.map((p) => p.seconds));
  const floorMedian = median(floors.map((f) => f.seconds));
  console.log(`\npush to live, median of ${PUSHES}: ${pushMedian.toFixed(2)} s (goal <= 1.5 s)`);
  console.log(
    `floor by hand, median: ${floorMedian.toFixed(2)} s  (clone ${median(floors.map((f) => f.marks.clone)).toFixed(0)} ms, npm install ${median(floors.map((f) => f.marks.install)).toFixed(0)} ms, start + answer ${median(floors.map((f) => f.marks.start)).toFixed(0)} ms)`,
  );
  const reusedMedian = median(reusedFloors.map((f) => f.seconds));
  console.log(
    `floor by hand with the earlier install copied in (what faasline does when the dependencies did not change), median: ${reusedMedian.toFixed(2)} s`,
  );
  console.log(
    `ratio: ${(pushMedian / floorMedian).toFixed(2)} x the floor (goal <= 1.25: ${pushMedian <= 1.25 * floorMedian ? 'yes' : 'NO'}); ` +
      `${(pushMedian / reusedMedian).toFixed(2)} x the floor that reuses the install (goal <= 1.5: ${pushMedian <= 1.5 * reusedMedian ? 'yes' : 'NO'})`,
  );
  if (servers.length === 2) {
    const off = median(comparison.map(([bare]) => bare.seconds));
    const on = median(comparison.map(([, sandboxed]) => sandboxed.seconds));
    const paired = median(comparison.map(([bare, sandboxed]) => sandboxed.seconds - bare.seconds));
    console.log(
      `sandbox cost on push to live (each push to both servers in turn, alternating which goes first): median ${off.toFixed(2)} s with SANDBOX=off, ${on.toFixed(2)} s sandboxed: ${(((on - off) / off) * 100).toFixed(1)} % (goal <= 10 %); median paired difference ${(paired * 1000).toFixed(0)} ms`,
    );
    const stageOf = (marks, from, to) => marks[to] - marks[from];
    for (const [from, to] of [
      ['PushReceived', 'SourceFetched'],
      ['SourceFetched', 'BuildStarted'],
      ['BuildStarted', 'BuildSucceeded'],
      ['BuildSucceeded', 'answering'],
    ]) {
      const off = median(comparison.map(([bare]) => stageOf(bare.marks, from, to)));
      const on = median(comparison.map(([, sandboxed]) => stageOf(sandboxed.marks, from, to)));
      console.log(`  ${`${from} -> ${to}`.padEnd(36)} ${String(off).padStart(5)} ms off, ${String(on).padStart(5)} ms sandboxed`);
    }
  }
  // The gateway switches traffic to the new version, then stops the old one and answers the deploy: so the new
  // version usually answers a few ms before FunctionDeployed is recorded.
  const stages = ['PushReceived', 'SourceFetched', 'BuildStarted', 'BuildSucceeded', 'answering', 'FunctionDeployed'];
  console.log('stages, median ms (from the events\' occurredAt; "answering" is the bench\'s first answer from the new version):');
  for (let i = 1; i < stages.length; i++) {
    const step = median(pushes.map((p) => p.marks[stages[i]] - p.marks[stages[i - 1]]));
    console.log(
      `  ${`${stages[i - 1]} -> ${stages[i]}`.padEnd(36)} ${String(step).padStart(5)} ms   (at +${median(pushes.map((p) => p.marks[stages[i]]))} ms)`,
    );
  }
  if (process.env.BENCH_VERBOSE) {
    const log = await fetch(`${url}/api/v1/builds/${pushes.at(-1).buildId}/log`, { headers: { authorization: `Bearer ${adminToken}` } });
    console.log(`last build's log:\n${await log.text()}`);
  }

  const one = memory(api.pid);
  const oneFunctions = children(api.pid).filter((child) => / index\.js$/.test(child.command));
  console.log(`\nfaasline process with 1 function: RSS ${mb(one.rss)} (peak ${mb(one.hwm)}); function processes: ${oneFunctions.length}`);

  const names = Array.from({ length: FUNCTIONS }, (_, i) => `fn${i + 1}`);
  writeStack(names);
  names.forEach((fn) => writeHandler(fn, `${fn} of ${FUNCTIONS}`));
  const { deliveryId } = await deliver(commit('twenty'));
  await Promise.all(names.map((fn) => answered(`${gatewayUrl}/function/${OWNER}-${fn}`, `Hello, ${fn} of ${FUNCTIONS}!`, 180_000)));
  const failures = (await deliveryEvents(deliveryId)).filter((e) => e.type === 'BuildFailed' || e.type === 'DeployFailed');
  if (failures.length > 0) throw new Error(`the 20-function push failed: ${failures.map((e) => e.data.reason).join('; ')}`);
  await sleep(3000);
  const twenty = memory(api.pid);
  const running = children(api.pid).filter((child) => / index\.js$/.test(child.command));
  // A sandboxed function is a tree (unshare/bwrap, its pid 1, node): its memory is the whole tree's.
  const treeRss = (pid) => memory(pid).rss + children(pid).reduce((sum, child) => sum + treeRss(child.pid), 0);
  const functionRss = running.map((child) => treeRss(child.pid));
  const total = functionRss.reduce((sum, rss) => sum + rss, 0);
  console.log(
    `faasline process with ${FUNCTIONS} functions: RSS ${mb(twenty.rss)}, peak over the whole run ${mb(twenty.hwm)} (goal <= 250 MB)`,
  );
  console.log(
    `function processes: ${running.length}, RSS ${mb(total)} in all, ${(total / running.length).toFixed(1)} MB each (min ${mb(Math.min(...functionRss))}, max ${mb(Math.max(...functionRss))})`,
  );
  console.log(`faasline RSS per added function: ${((twenty.rss - one.rss) / (FUNCTIONS - 1)).toFixed(2)} MB ((RSS at 20 - RSS at 1) / 19)`);
} catch (error) {
  console.error(`bench failed: ${error.message}\n--- api output (tail) ---\n${output().split('\n').slice(-40).join('\n')}`);
  process.exitCode = 1;
} finally {
  for (const { api: one } of servers) {
    one.kill('SIGINT');
    await Promise.race([new Promise((resolve) => one.once('exit', resolve)), sleep(10_000)]);
    if (one.exitCode === null) one.kill('SIGKILL');
  }
  await gitServer.close();
  for (const database of databases) await database.drop();
  await server.stop();
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}
