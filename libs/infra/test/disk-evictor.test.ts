import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskEvictor, imageIndexPath, LocalBuilder, markUsed, silentLogger } from '#infra';

const KB = 1024;
const MINUTE = 60_000;
let dataDir: string;
let imagesDir: string;
let templateCacheDir: string;
let gatewayStateFile: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'faasline-evict-'));
  imagesDir = join(dataDir, 'images');
  templateCacheDir = join(dataDir, 'template-cache');
  gatewayStateFile = join(dataDir, 'gateway', 'deployments.json');
  mkdirSync(join(dataDir, 'gateway'), { recursive: true });
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/** A folder of `kb` kilobytes last used `minutesAgo`. */
function cached(path: string, kb: number, minutesAgo: number): string {
  mkdirSync(join(path, 'context'), { recursive: true });
  writeFileSync(join(path, 'context', 'blob'), Buffer.alloc(kb * KB));
  const when = new Date(Date.now() - minutesAgo * MINUTE);
  utimesSync(path, when, when);
  return path;
}
/** An image folder as the local builder leaves it, with its by-name index entry. */
function image(name: string, kb: number, minutesAgo: number): string {
  const folder = cached(join(imagesDir, `sha256-${Buffer.from(name).toString('hex').padEnd(64, '0')}`), kb, minutesAgo);
  mkdirSync(join(imagesDir, 'by-name'), { recursive: true });
  writeFileSync(imageIndexPath(imagesDir, name), folder);
  return folder;
}
const deployed = (...images: string[]) =>
  writeFileSync(
    gatewayStateFile,
    JSON.stringify(images.map((name) => ({ deployment: { service: name.split(':')[0], image: name }, createdAt: 'x' }))),
  );
const evictor = (limits: { imagesKb: number; templatesKb: number }) =>
  new DiskEvictor({
    imagesDir,
    templateCacheDir,
    gatewayStateFile,
    maxImagesBytes: limits.imagesKb * KB,
    maxTemplateCacheBytes: limits.templatesKb * KB,
    logger: silentLogger,
  });

describe('disk eviction', () => {
  it('brings images and npm installs under MAX_IMAGES_MB, least recently used first, never a deployed image', async () => {
    const running = image('alice-api:1', 100, 600);
    const oldest = image('bob-old:1', 100, 500);
    const recent = image('bob-new:2', 100, 60);
    const install = cached(join(imagesDir, 'npm-installs', 'a'.repeat(64)), 100, 300);
    deployed('alice-api:1');
    const report = await evictor({ imagesKb: 250, templatesKb: 1000 }).sweep();
    expect([...report.removed].sort()).toEqual([install, oldest].sort());
    expect(existsSync(running)).toBe(true);
    expect(existsSync(recent)).toBe(true);
    expect(report.imagesBytes).toBeLessThanOrEqual(250 * KB);
    // The evicted image's name no longer resolves: the builder says it does not hold it, so it is built again.
    const builder = new LocalBuilder(imagesDir, join(dataDir, 'npm-cache'));
    expect(existsSync(imageIndexPath(imagesDir, 'bob-old:1'))).toBe(false);
    expect(await builder.holds('bob-old:1')).toBe(false);
    expect(await builder.holds('bob-new:2')).toBe(true);
  });

  it('takes last what was used last: a reuse moves an old image behind newer ones', async () => {
    const reused = image('carol-a:1', 100, 900);
    const untouched = image('carol-b:1', 100, 100);
    await markUsed(reused);
    expect((await evictor({ imagesKb: 150, templatesKb: 1000 }).sweep()).removed).toEqual([untouched]);
    expect(existsSync(reused)).toBe(true);
  });

  it('keeps a deployed image even when it alone is over the limit, and anything used within the grace period', async () => {
    const running = image('dave-big:1', 300, 600);
    const justBuilt = image('dave-next:2', 100, 2);
    deployed('dave-big:1');
    expect((await evictor({ imagesKb: 100, templatesKb: 1000 }).sweep()).removed).toEqual([]);
    expect(existsSync(running) && existsSync(justBuilt)).toBe(true);
  });

  it('leaves a build in progress alone and clears staging left by a process that died mid-build', async () => {
    const building = cached(join(imagesDir, `sha256-${'1'.repeat(64)}.0f0f.tmp`), 100, 1);
    const abandoned = cached(join(imagesDir, `sha256-${'2'.repeat(64)}.0e0e.tmp`), 100, 600);
    const report = await evictor({ imagesKb: 50, templatesKb: 1000 }).sweep();
    expect(report.removed).toEqual([abandoned]);
    expect(existsSync(building)).toBe(true);
  });

  it('at start removes every staging folder a killed process left, however fresh or locked, and nothing else', async () => {
    const imageStaging = cached(join(imagesDir, `sha256-${'3'.repeat(64)}.0a0a.tmp`), 10, 1);
    const installStaging = cached(join(imagesDir, 'npm-installs', `${'b'.repeat(64)}.0b0b.tmp`), 10, 1);
    const templateStaging = cached(join(templateCacheDir, 'a1b2c3d4e5f60718', `${'c'.repeat(40)}.0c0c.tmp`), 10, 1);
    // What a build wrote and made unreadable to its owner still goes.
    mkdirSync(join(imageStaging, 'context', 'locked', 'deep'), { recursive: true });
    writeFileSync(join(imageStaging, 'context', 'locked', 'deep', 'file'), 'x');
    chmodSync(join(imageStaging, 'context', 'locked'), 0);
    // A staging name that is a link goes as a link: what it points to is never touched.
    const outside = join(dataDir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep'), 'x');
    const link = join(imagesDir, `sha256-${'4'.repeat(64)}.0d0d.tmp`);
    symlinkSync(outside, link);
    const kept = [
      image('frank-a:1', 10, 600),
      cached(join(imagesDir, 'npm-installs', 'd'.repeat(64)), 10, 600),
      cached(join(templateCacheDir, 'a1b2c3d4e5f60718', 'e'.repeat(40)), 10, 600),
      join(imagesDir, 'by-name'),
    ];

    // Nothing is over budget, so the periodic sweep keeps every one of them (the fresh ones even when over).
    expect((await evictor({ imagesKb: 1000, templatesKb: 1000 }).sweep()).removed).toEqual([]);
    const removed = await evictor({ imagesKb: 1000, templatesKb: 1000 }).removeAbandonedStaging();

    expect([...removed].sort()).toEqual([imageStaging, installStaging, templateStaging, link].sort());
    for (const path of removed) expect(() => lstatSync(path)).toThrow();
    for (const path of kept) expect(existsSync(path)).toBe(true);
    expect(existsSync(join(outside, 'keep'))).toBe(true);
  });

  it('brings the template cache under MAX_TEMPLATE_CACHE_MB, least recently used checkout first', async () => {
    const repository = join(templateCacheDir, 'a1b2c3d4e5f60718');
    const old = cached(join(repository, 'c'.repeat(40)), 100, 400);
    const used = cached(join(repository, 'd'.repeat(40)), 100, 200);
    const other = cached(join(templateCacheDir, '0000111122223333', 'e'.repeat(40)), 100, 300);
    const report = await evictor({ imagesKb: 1000, templatesKb: 150 }).sweep();
    expect([...report.removed].sort()).toEqual([old, other].sort());
    expect(existsSync(join(templateCacheDir, '0000111122223333'))).toBe(false); // no empty repository folders left
    expect(existsSync(used)).toBe(true);
    expect(report.templateCacheBytes).toBeLessThanOrEqual(150 * KB);
  });

  it('evicts no image while it cannot tell what the gateway runs', async () => {
    image('erin-a:1', 100, 600);
    writeFileSync(gatewayStateFile, '{ not json');
    await expect(evictor({ imagesKb: 10, templatesKb: 1000 }).sweep()).rejects.toThrow();
    expect(existsSync(imageIndexPath(imagesDir, 'erin-a:1'))).toBe(true);
  });
});
