import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, silentLogger } from '#infra';
import { DiskEvictionService } from '../src/pipeline/disk-eviction/disk-eviction.service.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'faasline-eviction-service-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe('disk eviction at start', () => {
  it('removes the staging folders of DATA_DIR/images at module init, before any pipeline step starts a build', async () => {
    const staging = join(dataDir, 'images', `sha256-${'5'.repeat(64)}.0f0f.tmp`);
    const image = join(dataDir, 'images', `sha256-${'6'.repeat(64)}`);
    for (const folder of [join(staging, 'context'), join(image, 'context')]) mkdirSync(folder, { recursive: true });
    writeFileSync(join(staging, 'context', 'half-installed'), 'x');
    const service = new DiskEvictionService(loadConfig({ DATA_DIR: dataDir }), silentLogger);
    await service.onModuleInit();
    expect(existsSync(staging)).toBe(false);
    expect(existsSync(image)).toBe(true);
    await service.onApplicationShutdown();
  });
});
