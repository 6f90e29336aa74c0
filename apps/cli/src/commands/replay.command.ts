import type { Command } from 'commander';
import { CliError, type CliContext } from '../cli-context.js';

type ReplayStarted = { id: string };
type ReplayReport = {
  status: 'running' | 'done' | 'failed';
  eventsProcessed: number;
  eventsTotal: number;
  checksumBefore: string;
  checksumAfter: string;
  error?: string;
};

const count = (n: number) => n.toLocaleString('en-US');
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `faasline replay`: rebuild every read model beside the live ones, with a progress bar, rate and ETA. */
export function registerReplayCommand(program: Command, cli: CliContext): void {
  program
    .command('replay')
    .description('rebuild every read model from the event log beside the live ones, then swap')
    .option('--api <url>', 'the faasline API (default: FAASLINE_API, else http://127.0.0.1:$PORT)')
    .option('--json', 'print the final report as JSON')
    .action(async (options: { api?: string; json?: boolean }) => {
      const api = cli.apiUrl(options.api);
      const token = cli.adminToken();
      const { id } = await cli.call<ReplayStarted>('POST', `${api}/api/v1/admin/replay`, { token });
      if (!options.json) console.log(`replay ${id} started`);
      const started = Date.now();
      const tty = Boolean(process.stdout.isTTY) && !options.json;
      let lastLine = 0;
      for (;;) {
        const report = await cli.call<ReplayReport>('GET', `${api}/api/v1/admin/replay/${id}`, { token });
        const seconds = (Date.now() - started) / 1000;
        const rate = report.eventsProcessed / Math.max(seconds, 0.001);
        if (report.status === 'running') {
          const total = Math.max(report.eventsTotal, report.eventsProcessed, 1);
          const share = Math.min(1, report.eventsProcessed / total);
          const eta = rate > 0 ? Math.ceil((total - report.eventsProcessed) / rate) : null;
          const bar = `${'#'.repeat(Math.round(share * 30))}${'.'.repeat(30 - Math.round(share * 30))}`;
          const line = `[${bar}] ${(share * 100).toFixed(0).padStart(3)}% ${count(report.eventsProcessed)}/${count(total)} events  ${count(Math.round(rate))} events/s  ETA ${eta === null ? '?' : `${eta} s`}`;
          if (options.json) {
            // scripts get the final report only
          } else if (tty) process.stdout.write(`\r${line}`);
          else if (Date.now() - lastLine >= 1000) {
            console.log(line);
            lastLine = Date.now();
          }
          await pause(250);
          continue;
        }
        if (tty) process.stdout.write('\n');
        if (report.status === 'failed') throw new CliError(`replay ${id} failed: ${report.error}`);
        cli.print(options.json ?? false, { id, ...report, seconds }, () => {
          console.log(`done: ${count(report.eventsProcessed)} events in ${seconds.toFixed(1)} s (${count(Math.round(rate))} events/s)`);
          const equal = report.checksumBefore === report.checksumAfter;
          console.log(
            `checksum before ${report.checksumBefore}, after ${report.checksumAfter}: ${equal ? cli.colour.ok('equal') : 'different (expected only after a projection or event-shape change)'}`,
          );
        });
        return;
      }
    });
}
