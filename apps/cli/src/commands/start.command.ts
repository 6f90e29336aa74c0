import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError, type CliContext } from '../cli-context.js';

/** `faasline start`: what `npm start` runs, the built api in this process (loaded by path: apps never import apps). */
export function registerStartCommand(program: Command, _cli: CliContext): void {
  program
    .command('start')
    .description('run faasline (api, pipeline, embedded gateway) in this process')
    .action(async () => {
      const main = fileURLToPath(new URL('../../api/main.js', import.meta.url));
      if (!existsSync(main)) throw new CliError('faasline is not built yet: run npm run build (npm start builds it too)');
      await import(main);
    });
}
