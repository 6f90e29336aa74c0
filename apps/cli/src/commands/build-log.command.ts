import type { Command } from 'commander';
import { CliError, type CliContext } from '../cli-context.js';
import { readToken, unlessNotFound, type BuildView, type Page } from './read-api.js';

type BuildLogOptions = { api?: string; follow?: boolean; json?: boolean };

const unfinished = (build: BuildView) => build.status === 'queued' || build.status === 'running';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A build id, or a function name standing for its newest build. */
async function findBuild(cli: CliContext, api: string, target: string): Promise<BuildView> {
  const token = readToken(cli);
  const build = await unlessNotFound(cli.call<BuildView>('GET', `${api}/api/v1/builds/${encodeURIComponent(target)}`, { token }));
  if (build) return build;
  const newest = await unlessNotFound(
    cli.call<Page<BuildView>>('GET', `${api}/api/v1/functions/${encodeURIComponent(target)}/builds?limit=1`, { token }),
  );
  const found = newest?.items[0];
  if (!found) throw new CliError(`no build and no function with builds named ${target} (faasline builds <function> lists builds)`);
  return found;
}

/** A reused build built nothing: its log is the one of the build whose image it took. */
async function withLog(cli: CliContext, api: string, build: BuildView): Promise<BuildView> {
  if (build.status !== 'reused' || !build.reusedBuildId) return build;
  process.stderr.write(cli.colour.dim(`build ${build.id} reused the image of build ${build.reusedBuildId}; its log:\n`));
  return cli.call<BuildView>('GET', `${api}/api/v1/builds/${encodeURIComponent(build.reusedBuildId)}`, { token: readToken(cli) });
}

/** `faasline build-log <build|fn> [--follow]`: a build's log; following prints new lines until the build has finished. */
export function registerBuildLogCommand(program: Command, cli: CliContext): void {
  program
    .command('build-log')
    .description("a build's log (a function name means its newest build); --follow prints new lines until it has finished")
    .argument('<build>', 'a build id (faasline builds <function> lists them) or a function name')
    .option('-f, --follow', 'keep printing new lines until the build has finished; exit 1 if it failed')
    .option('--json', 'print {build, log} as JSON once the log is complete (with --follow) or as it is')
    .option('--api <url>', 'the faasline API (default: FAASLINE_API, else http://127.0.0.1:$PORT)')
    .action(async (target: string, options: BuildLogOptions) => {
      const api = cli.apiUrl(options.api);
      const token = cli.token();
      let build = await withLog(cli, api, await findBuild(cli, api, target));
      let printed = 0;
      let log: string;
      for (;;) {
        // The build's state before its log: a build seen finished has its complete log saved already.
        build = await cli.call<BuildView>('GET', `${api}/api/v1/builds/${encodeURIComponent(build.id)}`, { token });
        const text = await unlessNotFound(cli.callText('GET', `${api}/api/v1/builds/${encodeURIComponent(build.id)}/log`, { token }));
        if (text === null && !unfinished(build))
          throw new CliError(`build ${build.id} has no log (${build.status}${build.reason ? `: ${build.reason}` : ''})`);
        log = (text ?? '').replace(/\n$/, '');
        const lines = log === '' ? [] : log.split('\n');
        if (!options.json) for (const line of lines.slice(printed)) console.log(line);
        printed = lines.length;
        if (!options.follow || !unfinished(build)) break;
        await pause(500);
      }
      cli.print(options.json ?? false, { build, log }, () => {
        if (options.follow) console.log(cli.colour.dim(`build ${build.id} ${build.status}${build.reason ? `: ${build.reason}` : ''}`));
      });
      if (options.follow && build.status === 'failed') process.exitCode = 1;
    });
}
