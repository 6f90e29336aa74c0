import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

export type CliRun = { code: number | null; stdout: string; stderr: string };

/** Runs the built `faasline` as a user would (bin/faasline.js), with `input` on its standard input. */
export function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [join(root, 'bin/faasline.js'), ...args], {
    cwd: options.cwd ?? root,
    env: options.env ?? process.env,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  if (options.input !== undefined) child.stdin!.end(options.input);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** The commands `faasline --help` lists (without `help`). */
export function commandsOf(help: string): string[] {
  return help
    .slice(help.indexOf('\nCommands:\n'))
    .split('\n')
    .map((line) => /^ {2}([a-z][a-z-]*)\b/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}
