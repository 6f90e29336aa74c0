import type { Command } from 'commander';
import { CliError, type CliContext } from '../cli-context.js';
import { allPages, readToken, short, type BuildView, type FunctionView } from './read-api.js';

type RollbackOptions = { to?: string; reason?: string; json?: boolean; wait: boolean; api?: string };
type RollbackAnswer = {
  name: string;
  buildId: string;
  sha: string;
  image: string;
  from: { buildId: string; sha: string; image: string };
  reason: string | null;
  actor: string;
};

const COMMIT = /^[0-9a-f]{7,40}$/i;
const WAIT_MS = 60_000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const took = (build: BuildView) => build.status === 'succeeded' || build.status === 'reused';

/**
 * The successful build before the one running: builds are listed newest first, so the first successful build with
 * another image after (older than) the running one's.
 */
export function previousBuild(builds: readonly BuildView[], running: Pick<FunctionView, 'image'>): BuildView | null {
  const current = builds.findIndex((build) => took(build) && build.image === running.image);
  return builds.slice(current + 1).find((build) => took(build) && build.image !== running.image) ?? null;
}

/** `faasline rollback <fn> [--to <build|sha>]`: an earlier successful build's image takes over again. */
export function registerRollbackCommand(program: Command, cli: CliContext): void {
  program
    .command('rollback')
    .description('deploy an earlier successful build of a function again (default: the one before the running one)')
    .argument('<function>', 'the function, e.g. alexellis-fn1')
    .option('--to <build|sha>', 'the build id (faasline builds <fn>) or a commit (7+ characters) to go back to')
    .option('--reason <text>', 'why: recorded with the rollback')
    .option('--no-wait', 'return once the rollback is recorded, without waiting for its deploy')
    .option('--json', 'print the result as JSON')
    .option('--api <url>', 'the faasline API (default: FAASLINE_API, else http://127.0.0.1:$PORT)')
    .action(async (name: string, options: RollbackOptions) => {
      const api = cli.apiUrl(options.api);
      const fn = `${api}/api/v1/functions/${encodeURIComponent(name)}`;
      let to: { buildId: string } | { sha: string };
      if (options.to !== undefined) to = COMMIT.test(options.to) ? { sha: options.to } : { buildId: options.to };
      else {
        const running = await cli.call<FunctionView>('GET', fn, { token: readToken(cli) });
        const previous = previousBuild(await allPages<BuildView>(cli, `${fn}/builds`, readToken(cli)), running);
        if (!previous) throw new CliError(`${name} has no successful build before the one it runs: nothing to roll back to`);
        to = { buildId: previous.id };
      }
      const answer = await cli.call<RollbackAnswer>('POST', `${fn}/rollback`, {
        body: { ...to, ...(options.reason === undefined ? {} : { reason: options.reason }) },
      });
      let deployed: FunctionView | null = null;
      if (options.wait) {
        const until = Date.now() + WAIT_MS;
        while (Date.now() < until) {
          const now = await cli.call<FunctionView>('GET', fn, { token: readToken(cli) });
          if (now.image === answer.image && now.status === 'ready') {
            deployed = now;
            break;
          }
          await pause(250);
        }
        if (!deployed)
          throw new CliError(
            `${name}: the rollback to ${short(answer.sha)} is recorded but not deployed after 60 s (faasline status ${name})`,
          );
      }
      cli.print(options.json ?? false, { ...answer, status: deployed?.status ?? 'deploying' }, () => {
        console.log(
          `${name}: rolled back from ${short(answer.from.sha)} to ${short(answer.sha)} (build ${answer.buildId}, ${answer.image})`,
        );
        console.log(deployed ? cli.colour.ok(`deployed: ${deployed.endpoint ?? name}`) : `deploying: faasline status ${name} follows it`);
      });
    });
}
