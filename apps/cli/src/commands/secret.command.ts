import type { Command } from 'commander';
import { ApiError, CliError, type CliContext } from '../cli-context.js';
import { sealForServer, secretValue, type ValueOptions } from './secret-value.js';
import { printTable } from './table.js';

type Common = { owner: string; api?: string; json?: boolean };
type SecretView = { name: string; secret: string; fingerprint: string; updatedAt: string; source: 'push' | 'api' };

const secretsUrl = (api: string, owner: string, name?: string) =>
  `${api}/api/v1/owners/${encodeURIComponent(owner)}/secrets${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

/**
 * `faasline secret set|list|delete`: an owner's secrets on the gateway, with the owner's token (FAASLINE_TOKEN) or
 * the admin's. `set` seals the value here first, so it travels sealed; list shows names and fingerprints only.
 */
export function registerSecretCommand(program: Command, cli: CliContext): void {
  const secret = program
    .command('secret')
    .description("an owner's secrets on the gateway: set, list, delete (token: FAASLINE_TOKEN, else the admin token)");
  const common = (command: Command) =>
    command
      .requiredOption('--owner <owner>', 'the GitHub user or organisation whose secrets these are')
      .option('--json', 'print the answer as JSON')
      .option('--api <url>', 'the faasline API (default: FAASLINE_API, else http://127.0.0.1:$PORT)');

  common(
    secret
      .command('set')
      .description('create or replace a secret, as <owner>-<name> on the gateway')
      .argument('<name>', 'the name functions list in stack.yml')
      .option('--value <value>', 'the value (else --from-file, else standard input)')
      .option('--from-file <path>', 'read the value from this file, byte for byte'),
  ).action(async (name: string, options: Common & ValueOptions) => {
    const api = cli.apiUrl(options.api);
    const value = await secretValue(options);
    const { sealed } = await sealForServer(cli, api, value);
    const set = await cli.call<SecretView>('PUT', secretsUrl(api, options.owner, name), { body: { sealed } });
    cli.print(options.json ?? false, set, () =>
      console.log(`${cli.colour.ok('set')} ${set.name} as ${set.secret} (${set.fingerprint.slice(0, 19)})`),
    );
  });

  common(secret.command('list').description('the secrets set through faasline: names and fingerprints, never values')).action(
    async (options: Common) => {
      const { items } = await cli.call<{ items: SecretView[] }>('GET', secretsUrl(cli.apiUrl(options.api), options.owner));
      cli.print(options.json ?? false, items, () => {
        if (items.length === 0) {
          console.log(`${options.owner} has no secrets set through faasline (faasline secret set, or faasline seal into secrets.yml)`);
          return;
        }
        printTable(
          items.map((item) => ({
            name: item.name,
            'on gateway': item.secret,
            from: item.source,
            updated: item.updatedAt,
            fingerprint: item.fingerprint.slice(0, 19),
          })),
          ['name', 'on gateway', 'from', 'updated', 'fingerprint'],
        );
      });
    },
  );

  common(secret.command('delete').description('remove a secret from the gateway').argument('<name>', 'the secret name')).action(
    async (name: string, options: Common) => {
      try {
        await cli.call('DELETE', secretsUrl(cli.apiUrl(options.api), options.owner, name));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404)
          throw new CliError(`${options.owner} has no secret ${name} set through faasline`);
        throw error;
      }
      cli.print(options.json ?? false, { name, owner: options.owner, deleted: true }, () =>
        console.log(`deleted ${name} of ${options.owner}`),
      );
    },
  );
}
