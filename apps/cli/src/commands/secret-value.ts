// Where a secret's value comes from on the command line, and sealing it to the server's key.
import { readFileSync } from 'node:fs';
import { CliError, type CliContext } from '../cli-context.js';

export type ValueOptions = { value?: string; fromFile?: string };

/** `--value`, `--from-file` or standard input, byte for byte (as `faas-cli secret create` takes them). */
export async function secretValue(options: ValueOptions): Promise<Buffer> {
  if (options.value !== undefined && options.fromFile !== undefined) throw new CliError('give --value or --from-file, not both');
  if (options.value !== undefined) return Buffer.from(options.value, 'utf8');
  if (options.fromFile !== undefined) {
    try {
      return readFileSync(options.fromFile);
    } catch (error) {
      throw new CliError(`cannot read ${options.fromFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (process.stdin.isTTY) throw new CliError('give the value with --value, --from-file or on standard input');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const value = Buffer.concat(chunks);
  if (value.length === 0) throw new CliError('standard input was empty: give the value with --value, --from-file or on standard input');
  return value;
}

export type SealKeyView = { publicKey: string; keyId: string };

/** The server's public sealing key (anonymous), and the value sealed to it here: the value never leaves this machine. */
export async function sealForServer(cli: CliContext, api: string, value: Buffer): Promise<{ key: SealKeyView; sealed: string }> {
  const key = await cli.call<SealKeyView>('GET', `${api}/api/v1/seal-key`, { token: null });
  // Loaded on use: the sealing library and its WebAssembly are not needed for anything else (or for --help).
  const { seal, sealKeyFromPublic } = await import('#infra');
  const sealKey = sealKeyFromPublic(key.publicKey);
  if (sealKey.keyId !== key.keyId) throw new CliError(`the server's key ${key.keyId} does not match its own id: refusing to seal to it`);
  try {
    return { key, sealed: await seal(value, sealKey) };
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}
