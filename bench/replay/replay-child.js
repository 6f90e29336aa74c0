// The replaying process of bench/replay: one replay of the read models of the database named in argv[2], on its
// own so its peak RSS is the replay's alone. Prints one JSON line: the report, the seconds, VmHWM and maxRSS.
import { readFileSync } from 'node:fs';
import { ReadModelReplayer } from '../../dist/libs/projections/replay/read-model-replayer.js';
import { openBackbone, silentLogger } from '../../dist/libs/infra/index.js';

const databaseUrl = process.argv[2];
const backbone = await openBackbone({ databaseUrl, dataDir: '/nonexistent', kafka: null }, silentLogger);
try {
  const errors = [];
  const logger = { ...silentLogger, error: (message) => errors.push(message) };
  const rssBefore = process.memoryUsage().rss;
  // Where the memory is, sampled: V8's heap (live objects and garbage not yet collected) or buffers outside it.
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const samples = [];
  const sample = () => {
    const usage = process.memoryUsage();
    for (const key of Object.keys(peak)) peak[key] = Math.max(peak[key], usage[key]);
    samples.push(Math.round(usage.rss / 2 ** 20));
  };
  const sampler = setInterval(sample, 250);
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  const report = await new ReadModelReplayer(backbone.db, 'embedded', logger).replay('admin:bench');
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  sample();
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  process.stdout.write(
    `${JSON.stringify({
      report,
      seconds,
      errors,
      vmHwmKiB: kib('VmHWM'),
      maxRssKiB: process.resourceUsage().maxRSS,
      rssBeforeKiB: Math.round(rssBefore / 1024),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakMiB: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v / 2 ** 20)])),
      rssMiBEverySecond: samples.filter((_, i) => i % 4 === 0),
    })}\n`,
  );
} finally {
  await backbone.close();
}
