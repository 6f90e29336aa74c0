// The faasline command line. Every command registers itself from the list below; commander parses, answers
// --help (exit 0, nothing started) and refuses unknown commands and options in one line (exit 2).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError, cliContext, type CliContext } from './cli-context.js';
import { registerBuildLogCommand } from './commands/build-log.command.js';
import { registerBuildsCommand } from './commands/builds.command.js';
import { registerDeleteCommand } from './commands/delete.command.js';
import { registerEventsCommand } from './commands/events.command.js';
import { registerFunctionsCommand } from './commands/functions.command.js';
import { registerInvokeCommand } from './commands/invoke.command.js';
import { registerLanguagesCommand } from './commands/languages.command.js';
import { registerLogsCommand } from './commands/logs.command.js';
import { registerNewCommand } from './commands/new.command.js';
import { registerPushCommand } from './commands/push.command.js';
import { registerReplayCommand } from './commands/replay.command.js';
import { registerRollbackCommand } from './commands/rollback.command.js';
import { registerSealCommand } from './commands/seal.command.js';
import { registerSecretCommand } from './commands/secret.command.js';
import { registerTokenCommand } from './commands/token.command.js';
import { registerStartCommand } from './commands/start.command.js';
import { registerStatusCommand } from './commands/status.command.js';

/** One entry per command, in the order `faasline --help` lists them. */
const commands: ReadonlyArray<(program: Command, cli: CliContext) => void> = [
  registerStartCommand,
  registerNewCommand,
  registerLanguagesCommand,
  registerPushCommand,
  registerStatusCommand,
  registerBuildsCommand,
  registerBuildLogCommand,
  registerFunctionsCommand,
  registerInvokeCommand,
  registerRollbackCommand,
  registerDeleteCommand,
  registerLogsCommand,
  registerEventsCommand,
  registerReplayCommand,
  registerSealCommand,
  registerSecretCommand,
  registerTokenCommand,
];

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Usage errors are one line on stderr: commander's message without its "error: " prefix, the hint on the same line. */
const oneLine = (message: string) =>
  `faasline: ${message
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim()}\n`;

/** Settings every command needs, applied after registration so commands made with `new Command()` get them too. */
function configure(command: Command): void {
  command.exitOverride();
  // An argument too many is a mistake to say, not to ignore (commander 12 ignores it unless told).
  command.allowExcessArguments(false);
  command.configureOutput({ outputError: (message, write) => write(oneLine(message)) });
  command.commands.forEach(configure);
}

function buildProgram(cli: CliContext = cliContext()): Command {
  const program = new Command('faasline')
    .version(version)
    .description('faasline: push a stack.yml repository, get live OpenFaaS functions (OpenFaaS Cloud, event-sourced)')
    .showSuggestionAfterError(true);
  for (const register of commands) register(program, cli);
  configure(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp();
    return;
  }
  try {
    // Commander answers `help <unknown>` with the whole help on stderr; an unknown command is one line everywhere.
    const [first, asked] = argv;
    if (first === 'help' && asked !== undefined && !program.commands.some((command) => command.name() === asked))
      program.error(`unknown command '${asked}'`, { exitCode: 2, code: 'commander.unknownCommand' });
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    // Commander has already written help, the version or its one-line usage error.
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
    const message = error instanceof CliError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`faasline: ${message}\n`);
    process.exit(1);
  }
}

await main(process.argv.slice(2));
