import type { Command } from 'commander';
import { CliError, type CliContext } from '../cli-context.js';
import { gatewayCall, gatewayConnection } from './gateway-connection.js';

type LogsOptions = { since?: string; tail?: string; follow?: boolean; instance?: string; gateway?: string; json?: boolean };
type LogEntry = { timestamp: string; name: string; instance: string; text: string };

const units = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 } as const;

/** `--since 10m` (s, m, h, d) or an RFC3339 date, as the RFC3339 date the gateway takes. */
function sinceDate(value: string): string {
  const relative = /^(\d+)(s|m|h|d)$/.exec(value);
  if (relative) return new Date(Date.now() - Number(relative[1]) * units[relative[2] as keyof typeof units]).toISOString();
  const absolute = Date.parse(value);
  if (Number.isNaN(absolute)) throw new CliError(`--since takes a duration like 10m or 2h, or an RFC3339 date: ${value}`);
  return new Date(absolute).toISOString();
}

/** `faasline logs <function>`: its log lines (`timestamp name (instance) text`); --follow keeps printing new ones. */
export function registerLogsCommand(program: Command, cli: CliContext): void {
  program
    .command('logs')
    .description("a function's log lines; --follow keeps printing new ones")
    .argument('<function>', 'the function, e.g. alexellis-hello')
    .option('--since <when>', 'only lines after a duration ago (10m, 2h) or an RFC3339 date')
    .option('--tail <n>', 'only the last n lines')
    .option('--instance <id>', 'only the lines of one instance')
    .option('-f, --follow', 'keep printing new lines')
    .option('--json', 'one JSON object per line, as the gateway answers')
    .option('--gateway <url>', 'the OpenFaaS gateway (default: OPENFAAS_URL, else http://127.0.0.1:$GATEWAY_PORT)')
    .action(async (name: string, options: LogsOptions) => {
      if (options.tail !== undefined && !/^-?\d+$/.test(options.tail)) throw new CliError(`--tail takes a number: ${options.tail}`);
      const { gateway, headers } = gatewayConnection(cli, options.gateway);
      const query = new URLSearchParams({ name });
      if (options.since) query.set('since', sinceDate(options.since));
      if (options.tail) query.set('tail', options.tail);
      if (options.instance) query.set('instance', options.instance);
      if (options.follow) query.set('follow', 'true');
      const response = await gatewayCall(`${gateway}/system/logs?${query}`, headers);
      if (response.status === 404) throw new CliError(`no function named ${name} on ${gateway} (faasline functions lists them)`);
      if (!response.ok) throw new CliError(`GET /system/logs answered ${response.status}: ${(await response.text()).trim()}`);
      const print = (text: string) => {
        if (text.trim() === '') return;
        const entry = JSON.parse(text) as LogEntry;
        if (options.json) console.log(JSON.stringify(entry));
        else console.log(`${cli.colour.dim(entry.timestamp)} ${entry.name} (${entry.instance}) ${entry.text}`);
      };
      const decoder = new TextDecoder();
      let pending = '';
      for await (const chunk of response.body!) {
        pending += decoder.decode(chunk, { stream: true });
        const lines = pending.split('\n');
        pending = lines.pop()!;
        lines.forEach(print);
      }
      print(pending + decoder.decode());
    });
}
