import { existsSync } from 'node:fs';
import { chmod, lstat, readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { imageIndexPath } from '../builder/local.adapter.js';
import type { Logger } from '../logger.js';

/** One evictable folder: its size, when it was last used (its mtime, refreshed by `markUsed`), and whether it must stay. */
export type CachedFolder = Readonly<{ path: string; bytes: number; lastUsedMs: number; pinned: boolean }>;

/**
 * Which folders to delete so the rest fit in `maxBytes`: least recently used first, never a pinned one, never one
 * used within `graceMs` (a build may be reading it, a deploy may be about to). Pure, so the policy is tested alone.
 * What cannot be evicted stays even if it alone exceeds the budget.
 */
export function chooseEvictions(folders: readonly CachedFolder[], maxBytes: number, nowMs: number, graceMs: number): CachedFolder[] {
  let total = folders.reduce((sum, folder) => sum + folder.bytes, 0);
  const chosen: CachedFolder[] = [];
  const candidates = folders
    .filter((folder) => !folder.pinned && nowMs - folder.lastUsedMs >= graceMs)
    .sort((a, b) => a.lastUsedMs - b.lastUsedMs);
  for (const folder of candidates) {
    if (total <= maxBytes) break;
    chosen.push(folder);
    total -= folder.bytes;
  }
  return chosen;
}

export type DiskEvictorOptions = Readonly<{
  /** The local builder's `DATA_DIR/images`: `<digest>` image folders, `npm-installs/<key>`, the `by-name` index. */
  imagesDir: string;
  /** The template registry's `DATA_DIR/template-cache`: `<url hash>/<commit>` checkouts. */
  templateCacheDir: string;
  /** The embedded gateway's saved deployments: the images they run are never evicted. */
  gatewayStateFile: string;
  maxImagesBytes: number;
  maxTemplateCacheBytes: number;
  /** Folders used more recently than this stay (a build or deploy in progress). Default 15 minutes. */
  graceMs?: number;
  /** A staging folder (`*.tmp`) older than this was left by a process that died mid-build. Default 2 hours. */
  staleStagingMs?: number;
  logger: Logger;
}>;

export type EvictionReport = Readonly<{ removed: readonly string[]; imagesBytes: number; templateCacheBytes: number }>;

const STAGING = /\.tmp$/;
const IMAGE_FOLDER = /^sha256-[0-9a-f]+$/;

/**
 * Keeps the build caches on disk bounded: image folders and npm installs in MAX_IMAGES_MB, template checkouts in
 * MAX_TEMPLATE_CACHE_MB, least recently used first. Never an image a deployed function runs, nor anything in use.
 * Everything it deletes is content-addressed and rebuilt on demand (a build whose earlier image is gone builds again).
 */
export class DiskEvictor {
  /** Folders are content-addressed and never change once in place: their size is measured once. */
  private readonly sizes = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<EvictionReport> | null = null;

  constructor(private readonly options: DiskEvictorOptions) {}

  /** Sweeps now and then every `intervalMs`; errors are logged, never thrown. */
  start(intervalMs: number): void {
    const run = () => void this.sweep().catch((error: Error) => this.options.logger.error(`disk eviction: ${error.message}`));
    run();
    this.timer = setInterval(run, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping?.catch(() => undefined);
  }

  /**
   * Removes every staging folder (`*.tmp`) of the images, npm installs and template checkouts, whatever its age.
   * Only for the start, before this process begins any build or fetch: one faasline per DATA_DIR (the instance
   * lock), so each one was left by a process killed mid-build, and the periodic sweep would keep it for hours
   * (and never while under budget). Errors are logged, never thrown: a leftover is not worth refusing to start.
   */
  async removeAbandonedStaging(): Promise<string[]> {
    const { imagesDir, templateCacheDir } = this.options;
    const parents = [
      imagesDir,
      join(imagesDir, 'npm-installs'),
      ...(await entries(templateCacheDir)).map((repository) => join(templateCacheDir, repository)),
    ];
    const removed: string[] = [];
    for (const parent of parents) {
      for (const name of await entries(parent)) {
        if (!STAGING.test(name)) continue;
        const path = join(parent, name);
        try {
          await removeTree(path);
          removed.push(path);
        } catch (error) {
          this.options.logger.warn(`disk eviction: cannot remove the abandoned staging folder ${name}: ${(error as Error).message}`);
        }
      }
    }
    if (removed.length > 0)
      this.options.logger.info(`disk eviction: removed ${removed.length} staging folder(s) left by a process that died mid-build`);
    return removed;
  }

  /** One pass over both caches; concurrent callers share it. */
  sweep(): Promise<EvictionReport> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<EvictionReport> {
    const now = Date.now();
    const grace = this.options.graceMs ?? 15 * 60_000;
    const removed: string[] = [];
    const evict = async (folders: CachedFolder[], maxBytes: number) => {
      for (const folder of chooseEvictions(folders, maxBytes, now, grace)) {
        await rm(folder.path, { recursive: true, force: true });
        this.sizes.delete(folder.path);
        removed.push(folder.path);
      }
      return folders.filter((folder) => !removed.includes(folder.path)).reduce((sum, folder) => sum + folder.bytes, 0);
    };
    const images = await this.imageFolders(now);
    const imagesBytes = await evict(images, this.options.maxImagesBytes);
    if (removed.length > 0) await this.dropDanglingIndex();
    const templateCacheBytes = await evict(await this.templateFolders(now), this.options.maxTemplateCacheBytes);
    for (const repository of await entries(this.options.templateCacheDir)) {
      const path = join(this.options.templateCacheDir, repository);
      if ((await entries(path)).length === 0) await rmdir(path).catch(() => undefined); // a fetch may just be filling it
    }
    if (removed.length > 0) this.options.logger.info(`disk eviction: removed ${removed.length} least recently used cache folder(s)`);
    return { removed, imagesBytes, templateCacheBytes };
  }

  private async imageFolders(now: number): Promise<CachedFolder[]> {
    const { imagesDir } = this.options;
    const running = await this.runningImageFolders();
    const folders: CachedFolder[] = [];
    for (const name of await entries(imagesDir)) {
      if (IMAGE_FOLDER.test(name)) folders.push(await this.describe(join(imagesDir, name), running.has(join(imagesDir, name))));
      else if (STAGING.test(name)) folders.push(await this.staging(join(imagesDir, name), now));
    }
    for (const name of await entries(join(imagesDir, 'npm-installs'))) {
      const path = join(imagesDir, 'npm-installs', name);
      folders.push(STAGING.test(name) ? await this.staging(path, now) : await this.describe(path, false));
    }
    return folders;
  }

  private async templateFolders(now: number): Promise<CachedFolder[]> {
    const folders: CachedFolder[] = [];
    for (const repository of await entries(this.options.templateCacheDir)) {
      for (const name of await entries(join(this.options.templateCacheDir, repository))) {
        const path = join(this.options.templateCacheDir, repository, name);
        folders.push(STAGING.test(name) ? await this.staging(path, now) : await this.describe(path, false));
      }
    }
    return folders;
  }

  /** A staging folder counts for its size; it is only ever removed once stale (its build died with its process). */
  private async staging(path: string, now: number): Promise<CachedFolder> {
    const info = await lstat(path).catch(() => null);
    const stale = info !== null && now - info.mtimeMs > (this.options.staleStagingMs ?? 2 * 60 * 60_000);
    return { path, bytes: await folderBytes(path), lastUsedMs: info?.mtimeMs ?? now, pinned: !stale };
  }

  private async describe(path: string, pinned: boolean): Promise<CachedFolder> {
    const info = await lstat(path).catch(() => null);
    let bytes = this.sizes.get(path);
    if (bytes === undefined) {
      bytes = await folderBytes(path);
      this.sizes.set(path, bytes);
    }
    return { path, bytes, lastUsedMs: info?.mtimeMs ?? 0, pinned };
  }

  /** The image folders of the embedded gateway's deployments, found through the builder's `by-name` index. */
  private async runningImageFolders(): Promise<Set<string>> {
    const running = new Set<string>();
    const { gatewayStateFile, imagesDir } = this.options;
    if (!existsSync(gatewayStateFile)) return running;
    // A state file we cannot read means we cannot tell what runs: the sweep fails and evicts nothing.
    const saved = JSON.parse(await readFile(gatewayStateFile, 'utf8')) as { deployment: { image: string } }[];
    for (const { deployment } of saved) {
      const folder = await readFile(imageIndexPath(imagesDir, deployment.image), 'utf8').catch(() => null);
      if (folder !== null) running.add(folder.trim());
    }
    return running;
  }

  /** Index entries naming a folder that is gone: the image is no longer held, so a later build makes it again. */
  private async dropDanglingIndex(): Promise<void> {
    const indexDir = join(this.options.imagesDir, 'by-name');
    for (const name of await entries(indexDir)) {
      const folder = await readFile(join(indexDir, name), 'utf8').catch(() => null);
      if (folder !== null && !existsSync(folder.trim())) await rm(join(indexDir, name), { force: true });
    }
  }
}

/**
 * `rm -rf`, also through folders a build left unreadable (a sandbox running as faasline's own uid may chmod 000 what
 * it wrote): on a refusal, folders are made ours to list and delete (links never followed) and removal is retried.
 */
async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw error;
    await openUp(path);
    await rm(path, { recursive: true, force: true });
  }
}

async function openUp(path: string): Promise<void> {
  const info = await lstat(path).catch(() => null);
  if (!info?.isDirectory()) return;
  await chmod(path, 0o700).catch(() => undefined);
  for (const name of await entries(path)) await openUp(join(path, name));
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/** Bytes of the files under a folder, symbolic links not followed. */
async function folderBytes(path: string): Promise<number> {
  const info = await lstat(path).catch(() => null);
  if (!info) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true }).catch(() => [])) {
    total += entry.isDirectory()
      ? await folderBytes(join(path, entry.name))
      : ((await lstat(join(path, entry.name)).catch(() => null))?.size ?? 0);
  }
  return total;
}
