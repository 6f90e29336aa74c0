// Density of the embedded gateway: BENCH_FUNCTIONS (1,000) functions deployed on this machine, half node20 and half
// python3-http, with a short idle time (BENCH_IDLE_MS, 2 s) so each one scales to zero after its deploy proved it
// starts. The gateway runs in a process of its own (sandboxed functions when a sandbox works here, unless
// BENCH_SANDBOX=off). Reports: the deploys' pace; the RSS of the gateway and all its descendants before, while and
// after deploying, and after every function idled out, with the gateway's live heap after GC; cold calls
// (BENCH_COLD per template, each function called once while at zero) p50/p99; warm calls through the gateway against
// the same function's port directly (BENCH_WARM_CALLS each, alternating), p50/p99 and the difference. Goals: cold
// p50 <= 150 ms and p99 <= 400 ms per template, warm added <= 1 ms at p99, no process left once all are idle with
// a few KB of heap per idle function, and 1,000 idle functions taking less memory than one running function.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalBuilder, shrinkwrap } from '../../dist/libs/infra/index.js';
import { builtinTemplate } from '../faasline.js';

const FUNCTIONS = Number(process.env.BENCH_FUNCTIONS ?? 1000);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 2000);
const COLD = Number(process.env.BENCH_COLD ?? 100);
const WARM_CALLS = Number(process.env.BENCH_WARM_CALLS ?? 2000);
const DEPLOY_CONCURRENCY = Number(process.env.BENCH_DEPLOY_CONCURRENCY ?? 2);
const SANDBOXED = process.env.BENCH_SANDBOX !== 'off';
const PASSWORD = 'bench-density';
const TEMPLATES = ['node20', 'python3-http'];
const HANDLERS = {
  node20: {
    file: 'handler.js',
    source: 'module.exports = async (event, context) => context.status(200).succeed({ port: process.env.PORT, pid: process.pid })\n',
  },
  'python3-http': {
    file: 'handler.py',
    source:
      'import os\n\ndef handle(event, context):\n    return {"statusCode": 200, "body": {"port": os.environ["PORT"], "pid": os.getpid()}}\n',
  },
};

const work = mkdtempSync(join(tmpdir(), 'faasline-bench-density-'));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];
const ms = (value) => `${value.toFixed(1)} ms`;
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const yes = (ok) => (ok ? 'yes' : 'NO');
const authorization = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

let gateway = null;
try {
  const images = join(work, 'images');
  for (const lang of TEMPLATES) await buildImage(lang, images);

  // The machine's python3, not a version manager's shim in PATH (pyenv's adds 1 to 4 s to every start here); the
  // sandbox runs /usr/bin/python3 anyway.
  const child = fork(
    new URL('./gateway-child.js', import.meta.url).pathname,
    [
      JSON.stringify({
        dataDir: join(work, 'data'),
        imagesDir: images,
        password: PASSWORD,
        idleMs: IDLE_MS,
        sandbox: SANDBOXED,
        uidBase: 67000,
      }),
    ],
    {
      env: { ...process.env, PATH: `/usr/local/bin:/usr/bin:/bin:${process.env.PATH ?? ''}` },
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  gateway = child;
  const started = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the gateway exited (${code})`)));
  });
  const url = started.url;
  console.log(`sandbox: ${started.sandbox ?? `none (${started.reason})`}; idle time ${IDLE_MS} ms; ${FUNCTIONS} functions`);
  await sleep(1000);
  const baseline = treeMemory(child.pid);
  const baselineHeap = await liveHeap(child);
  console.log(`gateway alone: ${mb(baseline.rss)} RSS, ${mb(baselineHeap)} live heap`);

  // Deploy all, a few at a time: each deploy starts its function and answers once it is healthy (the proof it starts).
  const names = Array.from({ length: FUNCTIONS }, (_, i) => ({ name: `bench-fn-${String(i).padStart(4, '0')}`, lang: TEMPLATES[i % 2] }));
  const deployTimes = [];
  let peak = baseline;
  const sampler = setInterval(() => {
    const now = treeMemory(child.pid);
    if (now.rss > peak.rss) peak = now;
  }, 250);
  const deployStart = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: DEPLOY_CONCURRENCY }, async () => {
      while (next < names.length) {
        const { name, lang } = names[next++];
        const began = performance.now();
        const answer = await call(url, 'POST', '/system/functions', {
          service: name,
          image: `local/bench/${lang}`,
          envProcess: envProcess(lang),
        });
        if (answer.status !== 202) throw new Error(`deploy ${name}: ${answer.status} ${answer.body}`);
        deployTimes.push(performance.now() - began);
      }
    }),
  );
  const deploySeconds = (performance.now() - deployStart) / 1000;
  clearInterval(sampler);
  const afterDeploy = treeMemory(child.pid);
  console.log(
    `deployed ${FUNCTIONS} in ${deploySeconds.toFixed(1)} s (${(FUNCTIONS / deploySeconds).toFixed(1)}/s, ${DEPLOY_CONCURRENCY} at a time; each deploy starts its function: p50 ${ms(quantile(deployTimes, 0.5))}, p99 ${ms(quantile(deployTimes, 0.99))})`,
  );
  console.log(`while deploying: peak ${mb(peak.rss)} RSS with ${peak.processes - 1} processes below the gateway`);
  console.log(`after deploying: ${mb(afterDeploy.rss)} RSS with ${afterDeploy.processes - 1} processes below the gateway`);

  const idleStart = performance.now();
  await untilAllIdle(url, child.pid);
  await sleep(1000);
  const afterIdle = treeMemory(child.pid);
  const idleHeap = await liveHeap(child);
  console.log(
    `after idling (${((performance.now() - idleStart) / 1000).toFixed(1)} s): ${mb(afterIdle.rss)} RSS, ${afterIdle.processes - 1} processes below the gateway; ${FUNCTIONS} deployments cost ${mb(afterIdle.rss - baseline.rss)} over the gateway alone (${((afterIdle.rss - baseline.rss) / FUNCTIONS / 1024).toFixed(1)} KB each); live heap ${mb(idleHeap)} (+${((idleHeap - baselineHeap) / FUNCTIONS / 1024).toFixed(1)} KB per function)`,
  );

  // Cold: a random sample of each template, each called once while at zero, one after another.
  const cold = {};
  for (const lang of TEMPLATES) {
    const sample = shuffle(names.filter((fn) => fn.lang === lang)).slice(0, COLD);
    cold[lang] = [];
    for (const { name } of sample) {
      const began = performance.now();
      const answer = await call(url, 'GET', `/function/${name}`);
      if (answer.status !== 200) throw new Error(`cold call of ${name}: ${answer.status} ${answer.body}`);
      cold[lang].push(performance.now() - began);
    }
  }

  await untilAllIdle(url, child.pid);

  // Warm: one running function per template, called through the gateway and on its own port, alternately.
  const warm = {};
  let oneFunction = null;
  for (const lang of TEMPLATES) {
    const { name } = names.find((fn) => fn.lang === lang);
    const { port } = JSON.parse((await call(url, 'GET', `/function/${name}`)).body);
    const direct = `http://127.0.0.1:${port}`;
    const before = treeMemory(child.pid);
    if (oneFunction === null && lang === 'node20') oneFunction = before.rss - afterIdle.rss;
    warm[lang] = { gateway: [], direct: [] };
    for (let i = 0; i < 200; i++) await Promise.all([call(url, 'GET', `/function/${name}`), call(direct, 'GET', '/')]);
    for (let i = 0; i < WARM_CALLS; i++) {
      for (const [path, base, into] of [
        [`/function/${name}`, url, warm[lang].gateway],
        ['/', direct, warm[lang].direct],
      ]) {
        const began = performance.now();
        const answer = await call(base, 'GET', path);
        if (answer.status !== 200) throw new Error(`warm call of ${name}: ${answer.status} ${answer.body}`);
        into.push(performance.now() - began);
      }
    }
  }

  console.log('\ncold calls (the function at zero: started by the call, then answering it):');
  for (const lang of TEMPLATES)
    console.log(
      `  ${lang.padEnd(13)} ${cold[lang].length} calls: p50 ${ms(quantile(cold[lang], 0.5))}, p99 ${ms(quantile(cold[lang], 0.99))}`,
    );
  console.log(`warm calls (${WARM_CALLS} each way, alternating, one at a time):`);
  for (const lang of TEMPLATES) {
    const { gateway: via, direct } = warm[lang];
    console.log(
      `  ${lang.padEnd(13)} direct p50 ${ms(quantile(direct, 0.5))} p99 ${ms(quantile(direct, 0.99))}; through the gateway p50 ${ms(quantile(via, 0.5))} p99 ${ms(quantile(via, 0.99))}; added p50 ${ms(quantile(via, 0.5) - quantile(direct, 0.5))}, p99 ${ms(quantile(via, 0.99) - quantile(direct, 0.99))} (ratio at p99 ${(quantile(via, 0.99) / quantile(direct, 0.99)).toFixed(2)})`,
    );
  }
  console.log(
    `memory: gateway alone ${mb(baseline.rss)}; ${FUNCTIONS} deployed and idle ${mb(afterIdle.rss)} (+${mb(afterIdle.rss - baseline.rss)}); one running node20 function ${mb(oneFunction)}`,
  );

  console.log('\ngoals:');
  for (const lang of TEMPLATES) {
    console.log(`  cold ${lang} p50 <= 150 ms: ${yes(quantile(cold[lang], 0.5) <= 150)} (${ms(quantile(cold[lang], 0.5))})`);
    console.log(`  cold ${lang} p99 <= 400 ms: ${yes(quantile(cold[lang], 0.99) <= 400)} (${ms(quantile(cold[lang], 0.99))})`);
  }
  for (const lang of TEMPLATES) {
    const added = quantile(warm[lang].gateway, 0.99) - quantile(warm[lang].direct, 0.99);
    console.log(`  warm ${lang} added at p99 <= 1 ms: ${yes(added <= 1)} (${ms(added)})`);
  }
  // An idle function holds its deployment's metadata only: a few KB of live heap, no process.
  const perFunction = (idleHeap - baselineHeap) / FUNCTIONS;
  console.log(
    `  memory bounded by what runs (no process left after idling, live heap <= 16 KB per idle function): ${yes(afterIdle.processes === 1 && perFunction <= 16 * 1024)} (${afterIdle.processes - 1} processes, ${(perFunction / 1024).toFixed(1)} KB)`,
  );
  console.log(
    `  ${FUNCTIONS} idle functions' RSS under one running function's: ${yes(afterIdle.rss - baseline.rss < oneFunction)} (+${mb(afterIdle.rss - baseline.rss)} against ${mb(oneFunction)}; the allocator keeps pages of the deploys' peak)`,
  );
} finally {
  if (gateway && gateway.exitCode === null) {
    gateway.send('stop');
    await new Promise((resolve) => gateway.once('exit', resolve));
  }
  agent.destroy();
  rmSync(work, { recursive: true, force: true });
}

function liveHeap(child) {
  return new Promise((resolve) => {
    child.once('message', (answer) => resolve(answer.heapUsed));
    child.send('heap');
  });
}

/** Every function idled out: listed with 0 replicas, and no process of it left. */
async function untilAllIdle(url, pid) {
  const deadline = performance.now() + 120_000;
  for (;;) {
    const listed = JSON.parse((await call(url, 'GET', '/system/functions')).body);
    if (listed.length === FUNCTIONS && listed.every((fn) => fn.replicas === 0) && treeMemory(pid).processes === 1) return;
    if (performance.now() > deadline) throw new Error('functions still running 2 min after their last call');
    await sleep(250);
  }
}

function envProcess(lang) {
  return lang === 'node20' ? 'node index.js' : 'python3 index.py';
}

async function buildImage(lang, images) {
  const repo = join(work, 'repo', lang);
  mkdirSync(join(repo, 'hello'), { recursive: true });
  writeFileSync(join(repo, 'hello', HANDLERS[lang].file), HANDLERS[lang].source);
  const template = await builtinTemplate(lang, join(work, 'templates'));
  const context = await shrinkwrap({
    repoDir: repo,
    handler: 'hello',
    template,
    copy: [],
    buildArgs: {},
    limits: { maxBytes: 1e7, maxFiles: 1000 },
  });
  await new LocalBuilder(images, join(work, 'npm-cache')).build(
    {
      buildId: `b-${lang}`,
      owner: 'bench',
      name: `bench-${lang}`,
      lang,
      image: `local/bench/${lang}`,
      contextDigest: context.digest,
      archive: context.archive,
      buildArgs: {},
      contextUrl: '',
    },
    () => undefined,
    new AbortController().signal,
  );
}

/** One HTTP call on a kept-alive connection: status and body as text. */
function call(base, method, path, body) {
  return new Promise((resolve, reject) => {
    const target = new URL(path, base);
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const outgoing = request(
      target,
      {
        method,
        agent,
        headers: {
          ...(path.startsWith('/system/') ? { authorization } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
        },
      },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString() }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload ?? undefined);
  });
}

/** The RSS of `pid` and every process below it (a sandboxed function's setpriv/bwrap chain included), and how many. */
function treeMemory(pid) {
  const parents = new Map();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [child, parent] of parents)
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
  }
  let rss = 0;
  for (const member of tree) {
    try {
      rss += Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${member}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {
      // gone meanwhile
    }
  }
  return { rss, processes: tree.size };
}

function shuffle(items) {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}
