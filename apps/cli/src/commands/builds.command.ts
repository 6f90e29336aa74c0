import type { Command } from 'commander';
import { CliError, type CliContext } from '../cli-context.js';
import { printTable } from './table.js';
import { readToken, short, statusColour, type BuildView, type Page } from './read-api.js';

type BuildsOptions = { api?: string; limit: string; json?: boolean };

const seconds = (ms: number | null) => (ms === null ? '' : `${(ms / 1000).toFixed(1)} s`);

/** `faasline builds <fn>`: a function's builds, newest first. */
export function registerBuildsCommand(program: Command, cli: CliContext): void {
  program
    .command('builds')
    .description("a function's builds, newest first: id, status, commit, duration, image or why it failed")
    .argument('<function>', 'the function, e.g. alexellis-fn1')
    .option('--limit <n>', 'how many builds', '20')
    .option('--json', 'print them as JSON')
    .option('--api <url>', 'the faasline API (default: FAASLINE_API, else http://127.0.0.1:$PORT)')
    .action(async (name: string, options: BuildsOptions) => {
      if (!/^\d+$/.test(options.limit) || Number(options.limit) < 1 || Number(options.limit) > 500)
        throw new CliError(`--limit takes a number from 1 to 500: ${options.limit}`);
      const api = cli.apiUrl(options.api);
      const { items } = await cli.call<Page<BuildView>>(
        'GET',
        `${api}/api/v1/functions/${encodeURIComponent(name)}/builds?limit=${options.limit}`,
        { token: readToken(cli) },
      );
      cli.print(options.json ?? false, items, () => {
        if (items.length === 0) {
          console.log(`no builds of ${name} (faasline status lists the functions)`);
          return;
        }
        printTable(
          items.map((build) => ({
            build: build.id,
            status: statusColour(cli, build.status),
            commit: short(build.sha),
            started: build.startedAt ?? '',
            took: seconds(build.durationMs),
            detail: build.reason ?? build.image ?? '',
          })),
          ['build', 'status', 'commit', 'started', 'took', 'detail'],
        );
      });
    });
}
