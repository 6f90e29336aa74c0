import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildFailure } from './builder.port.js';

/** Larger than any manifest, lock file or requirements file a handler needs. */
const MAX_CONTEXT_FILE_BYTES = 32 * 2 ** 20;

/**
 * A build context file root reads after the build uid had the folder: never through a symlink (O_NOFOLLOW), never
 * blocking on a FIFO or a device (O_NONBLOCK, then only a regular file is read). null: absent or not a regular file.
 */
export async function readContextFile(path: string): Promise<Buffer | null> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
    (error: NodeJS.ErrnoException) => {
      if (['ENOENT', 'ELOOP', 'ENOTDIR', 'ENXIO', 'EISDIR'].includes(error.code ?? '')) return null;
      throw error;
    },
  );
  if (!handle) return null;
  try {
    const info = await handle.stat();
    if (!info.isFile()) return null;
    if (info.size > MAX_CONTEXT_FILE_BYTES)
      throw new BuildFailure(`${path.split('/context/')[1] ?? 'a file'} is larger than ${MAX_CONTEXT_FILE_BYTES / 2 ** 20} MB`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Disk a folder takes (allocated blocks, plus a little per entry for what blocks do not show), symlinks not followed. */
export async function diskUsage(path: string): Promise<number> {
  const info = await lstat(path).catch(() => null);
  if (!info) return 0;
  let total = info.blocks * 512 + 256;
  if (!info.isDirectory()) return total;
  const entries = await readdir(path).catch(() => [] as string[]);
  for (const entry of entries) total += await diskUsage(join(path, entry));
  return total;
}
