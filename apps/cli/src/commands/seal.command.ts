import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, type CliContext } from '../cli-context.js';
import { sealForServer, secretValue, type ValueOptions } from './secret-value.js';

type SealOptions = ValueOptions & { file: string; api?: string; json?: boolean };

/**
 * `faasline seal <name>`: seals a value to the server's public key into secrets.yml (kept beside stack.yml and
 * committed); the push opens it on the server and sets it as `<owner>-<name>` before its functions deploy.
 */
export function registerSealCommand(program: Command, cli: CliContext): void {
  program
    .command('seal')
    .description("seal a secret to the server's public key into secrets.yml, to commit beside stack.yml")
    .argument('<name>', 'the secret name functions list in stack.yml and read at /var/openfaas/secrets/<name>')
    .option('--value <value>', 'the value (else --from-file, else standard input)')
    .option('--from-file <path>', 'read the value from this file, byte for byte')
    .option('--file <path>', 'the secrets file to write; other entries are kept', 'secrets.yml')
    .option('--json', 'print what was written as JSON')
    .option('--api <url>', 'the faasline API (default: FAASLINE_API, else http://127.0.0.1:$PORT)')
    .action(async (name: string, options: SealOptions) => {
      const { secretNameProblem, withSealedSecret, sealedFingerprint } = await import('#infra');
      const problem = secretNameProblem(name);
      if (problem) throw new CliError(problem);
      const value = await secretValue(options);
      const { key, sealed } = await sealForServer(cli, cli.apiUrl(options.api), value);
      const existing = existsSync(options.file) ? readFileSync(options.file, 'utf8') : null;
      let text: string;
      try {
        text = withSealedSecret(existing, key, name, sealed);
      } catch (error) {
        throw new CliError((error as Error).message);
      }
      writeFileSync(options.file, text);
      const fingerprint = sealedFingerprint(key.keyId, sealed);
      cli.print(options.json ?? false, { name, file: options.file, keyId: key.keyId, fingerprint }, () =>
        console.log(`sealed ${name} to key ${key.keyId} in ${options.file}: commit it beside stack.yml and push`),
      );
    });
}
