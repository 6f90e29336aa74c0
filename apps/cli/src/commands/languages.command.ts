import type { Command } from 'commander';
import { ApiError, type CliContext } from '../cli-context.js';
import { languagesOf, withLocalTemplates, type Language } from './local-templates.js';
import { readToken } from './read-api.js';

/** `faasline languages`: what `lang:` may say, from the server; from this checkout's templates when the server does not say. */
export function registerLanguagesCommand(program: Command, cli: CliContext): void {
  program
    .command('languages')
    .description('the languages a stack.yml may use (lang:), and which are classic (standard output is the response)')
    .option('--json', 'print them as JSON')
    .option('--api <url>', 'the faasline API (default: FAASLINE_API, else http://127.0.0.1:$PORT)')
    .action(async (options: { api?: string; json?: boolean }) => {
      let languages: Language[];
      try {
        languages = (await cli.call<{ items: Language[] }>('GET', `${cli.apiUrl(options.api)}/api/v1/languages`, { token: readToken(cli) }))
          .items;
      } catch (error) {
        // A faasline from before the route: this checkout's templates are what it builds.
        if (!(error instanceof ApiError && error.status === 404)) throw error;
        languages = await withLocalTemplates(languagesOf);
      }
      cli.print(options.json ?? false, languages, () => {
        const width = Math.max(...languages.map((language) => language.name.length));
        for (const language of languages)
          console.log(
            language.classic
              ? `${language.name.padEnd(width)}  ${cli.colour.dim('classic: standard output is the response')}`
              : language.name,
          );
      });
    });
}
