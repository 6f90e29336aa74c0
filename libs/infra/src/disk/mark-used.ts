import { utimes } from 'node:fs/promises';

/**
 * Records that a cached folder (an image, an npm install, a template checkout) was just used, so disk eviction
 * takes it last. Best effort: a missing folder is no error.
 */
export async function markUsed(path: string): Promise<void> {
  const now = new Date();
  await utimes(path, now, now).catch(() => undefined);
}
