import type { Command } from 'commander';
import { CliError, type CliContext } from '../cli-context.js';
import { printTable } from './table.js';
import { allPages, readToken, short, statusColour, unlessNotFound, type FunctionView, type Page, type PushView } from './read-api.js';

type StatusOptions = { api?: string; pushes: string; json?: boolean };

/** `faasline status [owner/repo|fn]`: functions with their status and why, and a repository's last pushes. */
export function registerStatusCommand(program: Command, cli: CliContext): void {
  program
    .command('status')
    .description('functions with their status (and why one failed), and the last pushes of a repository')
    .argument('[target]', 'owner/repo for one repository, a function name (e.g. alexellis-fn1), or nothing for every function')
    .option('--pushes <n>', 'how many of the last pushes to show', '5')
    .option('--json', 'print {functions, pushes} as JSON')
    .option('--api <url>', 'the faasline API (default: FAASLINE_API, else http://127.0.0.1:$PORT)')
    .action(async (target: string | undefined, options: StatusOptions) => {
      if (!/^\d+$/.test(options.pushes) || Number(options.pushes) > 500)
        throw new CliError(`--pushes takes a number up to 500: ${options.pushes}`);
      const api = cli.apiUrl(options.api);
      const token = readToken(cli);
      let functions: FunctionView[];
      let repository: { owner: string; repo: string } | null = null;
      if (target === undefined) functions = await allPages<FunctionView>(cli, `${api}/api/v1/functions`, token);
      else if (target.includes('/')) {
        const [owner = '', repo = '', ...rest] = target.split('/');
        if (!owner || !repo || rest.length > 0) throw new CliError(`status takes owner/repo or a function name, not ${target}`);
        repository = { owner, repo };
        const query = new URLSearchParams({ owner, repo });
        functions = await allPages<FunctionView>(cli, `${api}/api/v1/functions?${query}`, token);
      } else {
        const found = await unlessNotFound(
          cli.call<FunctionView>('GET', `${api}/api/v1/functions/${encodeURIComponent(target)}`, { token }),
        );
        if (!found) throw new CliError(`no function named ${target} (faasline status lists them)`);
        functions = [found];
        repository = { owner: found.owner, repo: found.repo };
      }
      const pushes =
        repository && Number(options.pushes) > 0
          ? (
              await cli.call<Page<PushView>>(
                'GET',
                `${api}/api/v1/repos/${encodeURIComponent(repository.owner)}/${encodeURIComponent(repository.repo)}/pushes?limit=${options.pushes}`,
                { token },
              )
            ).items
          : [];
      cli.print(options.json ?? false, { functions, pushes }, () => {
        if (functions.length === 0) console.log(repository ? `no functions in ${repository.owner}/${repository.repo}` : 'no functions yet');
        else
          printTable(
            functions.map((fn) => ({
              function: fn.name,
              status: statusColour(cli, fn.status),
              repo: `${fn.owner}/${fn.repo}`,
              commit: `${fn.branch ?? '?'}@${short(fn.sha)}`,
              detail: fn.reason ?? fn.endpoint ?? '',
            })),
            ['function', 'status', 'repo', 'commit', 'detail'],
          );
        if (!repository || Number(options.pushes) === 0) return;
        console.log('');
        if (pushes.length === 0) {
          console.log(`no pushes of ${repository.owner}/${repository.repo}`);
          return;
        }
        console.log(`last pushes of ${repository.owner}/${repository.repo}:`);
        for (const push of pushes)
          console.log(
            `  ${cli.colour.dim(push.receivedAt ?? '?')}  ${push.branch ?? push.ref ?? '?'}@${short(push.sha)}  ${statusColour(cli, push.outcome)}${push.reason ? `: ${push.reason}` : ''}`,
          );
      });
    });
}
