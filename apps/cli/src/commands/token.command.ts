import type { Command } from 'commander';
import { ApiError, CliError, type CliContext } from '../cli-context.js';

type TokenOptions = { api?: string; json?: boolean };
type IssuedToken = { token: string; owner: string; id: string };

/** `faasline token create|revoke`: owner API tokens, with the admin token. The token is shown once. */
export function registerTokenCommand(program: Command, cli: CliContext): void {
  const token = program.command('token').description("owners' API tokens (admin): create one for an owner, revoke one");
  const common = (command: Command) =>
    command
      .option('--json', 'print the answer as JSON')
      .option('--api <url>', 'the faasline API (default: FAASLINE_API, else http://127.0.0.1:$PORT)');

  common(
    token
      .command('create')
      .description('a new token for an owner; shown once, only its hash is kept (use it as FAASLINE_TOKEN)')
      .requiredOption('--owner <owner>', 'the GitHub user or organisation the token speaks for'),
  ).action(async (options: TokenOptions & { owner: string }) => {
    const issued = await cli.call<IssuedToken>('POST', `${cli.apiUrl(options.api)}/api/v1/admin/owner-tokens`, {
      body: { owner: options.owner },
      token: cli.adminToken(),
    });
    cli.print(options.json ?? false, issued, () => {
      console.log(issued.token);
      console.error(
        cli.colour.dim(`token ${issued.id} for ${issued.owner}: shown this once; revoke with faasline token revoke ${issued.id}`),
      );
    });
  });

  common(token.command('revoke').description('revoke a token by its id').argument('<id>', 'the id token create printed')).action(
    async (id: string, options: TokenOptions) => {
      try {
        await cli.call('DELETE', `${cli.apiUrl(options.api)}/api/v1/admin/owner-tokens/${encodeURIComponent(id)}`, {
          token: cli.adminToken(),
        });
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) throw new CliError(`no owner token ${id}`);
        throw error;
      }
      cli.print(options.json ?? false, { id, revoked: true }, () => console.log(`revoked token ${id}`));
    },
  );
}
