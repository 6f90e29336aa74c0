import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { load } from 'js-yaml';
import { functionName, functionNameProblem } from '#domain';
import { CliError, type CliContext } from '../cli-context.js';
import { githubRemote, originRemoteOf } from './git-remote.js';
import { languagesOf, withLocalTemplates } from './local-templates.js';
import { declaredFunctions, newStack, withEntry, type StackEntry } from './stack-entry.js';

type NewOptions = { lang?: string; stack?: string; owner?: string; prefix?: string; json?: boolean };

/** stack.yml unless only stack.yaml is there, as faasline reads them. */
function defaultStack(): string {
  return !existsSync('stack.yml') && existsSync('stack.yaml') ? 'stack.yaml' : 'stack.yml';
}

/** `faasline new <fn> --lang <lang>`: a handler folder from the template and its entry in the stack file. */
export function registerNewCommand(program: Command, cli: CliContext): void {
  program
    .command('new')
    .description("scaffold a function: a handler folder from the language's template and its entry in stack.yml")
    .argument('<function>', 'the key under functions: (the deployed name is <owner>-<function>)')
    .option('--lang <lang>', 'the language (required; faasline languages lists them)')
    .option('--stack <file>', 'the stack file to add it to, created when missing (default: stack.yml)')
    .option('--owner <owner>', "the GitHub owner, to check the deployed name (default: from git's origin remote)")
    .option('--prefix <prefix>', 'an image prefix, as faas-cli new --prefix (image: <prefix>/<function>:latest)')
    .option('--json', 'print what was created as JSON')
    .action(async (key: string, options: NewOptions, command: Command) => {
      // Checked here rather than as a required option, so a mistyped option is named first.
      if (options.lang === undefined)
        command.error("required option '--lang <lang>' not specified", { exitCode: 2, code: 'commander.missingMandatoryOptionValue' });
      const stackPath = resolve(options.stack ?? defaultStack());
      const base = dirname(stackPath);
      const owner = options.owner ?? githubRemote(originRemoteOf(base) ?? '')?.owner ?? null;
      const problem = functionNameProblem(owner ? functionName(owner, key) : key);
      if (problem) throw new CliError(`cannot name a function ${key}: ${problem}`);
      const existing = existsSync(stackPath) ? readFileSync(stackPath, 'utf8') : null;
      if (existing !== null) {
        const declared = declaredFunctions(existing);
        if (!Array.isArray(declared)) throw new CliError(`${relative('.', stackPath) || stackPath} cannot be read: ${declared.problem}`);
        if (declared.includes(key)) throw new CliError(`${relative('.', stackPath)} already declares a function ${key}`);
      }
      const handlerDir = join(base, key);
      if (existsSync(handlerDir) && readdirSync(handlerDir).length > 0)
        throw new CliError(`${relative('.', handlerDir)} already exists and is not empty: choose another name`);
      const lang = options.lang.toLowerCase();
      const entry: StackEntry = {
        key,
        lang,
        handler: `./${key}`,
        image: `${options.prefix ? `${options.prefix.replace(/\/+$/, '')}/` : ''}${key}:latest`,
      };
      const updated = existing === null ? newStack(entry) : withEntry(existing, entry);
      if (updated === null)
        throw new CliError(
          `cannot add ${key} to ${relative('.', stackPath)} as it is laid out (functions: in flow style?): add it under functions: yourself (lang: ${entry.lang}, handler: ${entry.handler}, image: ${entry.image})`,
        );

      const created = await withLocalTemplates((templates) => {
        const template = templates.get(lang);
        if (!template || lang === 'dockerfile')
          throw new CliError(
            `no template for lang "${options.lang}": available are ${languagesOf(templates)
              .map((l) => l.name)
              .join(', ')}`,
          );
        cpSync(join(template.dir, template.handlerFolder), handlerDir, { recursive: true });
        const manifest = load(readFileSync(join(template.dir, 'template.yml'), 'utf8')) as { welcome_message?: unknown } | null;
        return {
          files: readdirSync(handlerDir, { recursive: true, withFileTypes: true })
            .filter((file) => file.isFile())
            .map((file) => relative(handlerDir, join(file.parentPath, file.name)))
            .sort(),
          welcome: typeof manifest?.welcome_message === 'string' ? manifest.welcome_message.trim() : null,
        };
      });
      writeFileSync(stackPath, updated);
      const name = owner ? functionName(owner, key) : null;
      cli.print(
        options.json ?? false,
        { function: key, name, lang, handler: handlerDir, files: created.files, stack: stackPath, stackCreated: existing === null },
        () => {
          console.log(`${cli.colour.ok('created')} ${relative('.', handlerDir) || '.'}/ (${created.files.join(', ')})`);
          console.log(`${existing === null ? 'created' : 'added it to'} ${relative('.', stackPath)}`);
          if (created.welcome) console.log(cli.colour.dim(created.welcome));
          console.log(`commit it and faasline push: it deploys as ${name ?? `<owner>-${key}`}`);
        },
      );
    });
}
