import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { CliError, type CliContext } from '../cli-context.js';

type DeleteOptions = { yes?: boolean; reason?: string; json?: boolean; api?: string };
type Deleted = { name: string; status: 'removed'; reason: string | null; actor: string };

/** Asks on a terminal; elsewhere (a script, a pipe) only --yes deletes. */
async function confirmed(name: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new CliError(`delete ${name}: add --yes to delete without being asked (no terminal to ask on)`);
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test(
      (await prompt.question(`delete ${name} from the gateway? a later push of its stack brings it back [y/N] `)).trim(),
    );
  } finally {
    prompt.close();
  }
}

/** `faasline delete <fn>`: remove a function from the gateway (recorded); a later push of its stack brings it back. */
export function registerDeleteCommand(program: Command, cli: CliContext): void {
  program
    .command('delete')
    .description('remove a function from the gateway; a later push of its stack brings it back')
    .argument('<function>', 'the function, e.g. alexellis-fn1')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--reason <text>', 'why: recorded with the deletion')
    .option('--json', 'print the result as JSON')
    .option('--api <url>', 'the faasline API (default: FAASLINE_API, else http://127.0.0.1:$PORT)')
    .action(async (name: string, options: DeleteOptions) => {
      if (!options.yes && !(await confirmed(name))) {
        console.log('not deleted');
        return;
      }
      const api = cli.apiUrl(options.api);
      const deleted = await cli.call<Deleted>('DELETE', `${api}/api/v1/functions/${encodeURIComponent(name)}`, {
        body: options.reason === undefined ? {} : { reason: options.reason },
      });
      cli.print(options.json ?? false, deleted, () =>
        console.log(`${name}: deleted (recorded as ${deleted.actor}); push its stack to bring it back`),
      );
    });
}
