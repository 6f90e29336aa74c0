// Cold start of one function on the embedded gateway, bare against sandboxed (bubblewrap as an unprivileged uid,
// cgroup limits), alternating in the same run: milliseconds from spawn to the health check answering, median and
// p99, the ratio and what the sandbox adds; then the memory of one function either way. Goal: <= 50 ms added.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FunctionProcess } from '../../dist/libs/gateway/index.js';
import { LocalBuilder, openSandbox, shrinkwrap } from '../../dist/libs/infra/index.js';
import { builtinTemplate } from '../faasline.js';

const STARTS = Number(process.env.BENCH_STARTS ?? 30);
const work = mkdtempSync(join(tmpdir(), 'faasline-bench-cold-'));
const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];
const ms = (value) => `${value.toFixed(1)} ms`;

try {
  const { sandbox, reason } = await openSandbox({ mode: 'auto', uidBase: 64000 });
  if (!sandbox) throw new Error(`no working sandbox here: ${reason}`);
  console.log(`sandbox: ${sandbox.description}`);
  const repo = join(work, 'repo');
  mkdirSync(join(repo, 'hello'), { recursive: true });
  writeFileSync(
    join(repo, 'hello', 'handler.js'),
    'module.exports = async (event, context) => context.status(200).succeed({ rss: process.memoryUsage().rss, uid: process.getuid() })\n',
  );
  const template = await builtinTemplate('node20', join(work, 'templates'));
  const context = await shrinkwrap({
    repoDir: repo,
    handler: 'hello',
    template,
    copy: [],
    buildArgs: {},
    limits: { maxBytes: 1e7, maxFiles: 1000 },
  });
  const images = join(work, 'images');
  await new LocalBuilder(images, join(work, 'npm-cache')).build(
    {
      buildId: 'b',
      owner: 'bench',
      name: 'bench-hello',
      lang: 'node20',
      image: 'local/bench/hello',
      contextDigest: context.digest,
      archive: context.archive,
      buildArgs: {},
      contextUrl: '',
    },
    () => undefined,
    new AbortController().signal,
  );
  const cwd = join(images, context.digest.replace(':', '-'), 'context');
  const secretsDir = join(work, 'secrets');
  mkdirSync(secretsDir, { mode: 0o700 });
  const make = (sandboxed) =>
    new FunctionProcess({
      name: 'bench-hello',
      cwd,
      command: 'node index.js',
      env: {},
      memoryBytes: 128 * 2 ** 20,
      secretsDir,
      sandbox: sandboxed ? sandbox : null,
      onLog: () => undefined,
    });

  const times = { bare: [], sandboxed: [] };
  const memory = { bare: [], sandboxed: [] };
  for (let i = 0; i < STARTS * 2 + 2; i++) {
    const sandboxed = i % 2 === 1;
    const fn = make(sandboxed);
    const started = performance.now();
    await fn.start();
    const elapsed = performance.now() - started;
    const answer = await (await fetch(`http://127.0.0.1:${fn.port}/`)).json();
    // The whole tree's RSS: for the sandbox that includes bwrap's two processes (same uid as the function).
    const tree = sandboxed ? rssOfUid(answer.uid) : answer.rss;
    await fn.stop(0);
    if (i < 2) continue; // warm-up, one of each
    times[sandboxed ? 'sandboxed' : 'bare'].push(elapsed);
    memory[sandboxed ? 'sandboxed' : 'bare'].push(tree);
  }
  const row = (name) =>
    `${name.padEnd(10)} median ${ms(quantile(times[name], 0.5))}, p99 ${ms(quantile(times[name], 0.99))}, RSS of one function ${(quantile(memory[name], 0.5) / 2 ** 20).toFixed(1)} MB`;
  console.log(`${STARTS} starts each, from spawn to the health check answering (polled every 10 ms):`);
  console.log(row('bare'));
  console.log(row('sandboxed'));
  const added = quantile(times.sandboxed, 0.5) - quantile(times.bare, 0.5);
  console.log(
    `sandbox adds ${ms(added)} per start at the median (ratio ${(quantile(times.sandboxed, 0.5) / quantile(times.bare, 0.5)).toFixed(2)}; goal <= 50 ms), p99 ${ms(quantile(times.sandboxed, 0.99) - quantile(times.bare, 0.99))}`,
  );
  console.log(
    `memory per function: ${((quantile(memory.sandboxed, 0.5) - quantile(memory.bare, 0.5)) / 2 ** 20).toFixed(1)} MB more sandboxed (bwrap's processes)`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

function rssOfUid(uid) {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(status)) total += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
