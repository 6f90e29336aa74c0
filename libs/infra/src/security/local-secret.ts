import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type LocalSecret = Readonly<{ value: string; path: string | null; generated: boolean }>;

/**
 * A secret from the environment, or else the one kept in DATA_DIR (created at first start, mode 0600). Callers
 * print the path, never the value.
 */
export async function loadOrCreateSecret(fromEnvironment: string | null, dataDir: string, fileName: string): Promise<LocalSecret> {
  if (fromEnvironment !== null) return { value: fromEnvironment, path: null, generated: false };
  const path = join(dataDir, 'secrets', fileName);
  const stored = await readFile(path, 'utf8').catch(() => null);
  if (stored !== null && stored.trim() !== '') return { value: stored.trim(), path, generated: false };
  await mkdir(join(dataDir, 'secrets'), { recursive: true, mode: 0o700 });
  const value = randomBytes(32).toString('base64url');
  // 'wx' fails if another process created it first; then theirs wins.
  const written = await writeFile(path, `${value}\n`, { mode: 0o600, flag: 'wx' }).then(
    () => true,
    () => false,
  );
  return written ? { value, path, generated: true } : { value: (await readFile(path, 'utf8')).trim(), path, generated: false };
}

/** Compares secrets without leaking, through timing, how much of a guess was right. */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = Buffer.isBuffer(a) ? a : Buffer.from(a);
  const right = Buffer.isBuffer(b) ? b : Buffer.from(b);
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
