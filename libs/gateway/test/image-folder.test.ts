import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageIndexPath } from '#infra';
import { buildHandlerImage, testGateway } from './support/test-gateway.js';
import type { EmbeddedGateway } from '../src/embedded-gateway.js';

/** The gateway runs only an image folder's real context: never one a build replaced with a symlink (finding 2). */

let work: string;
let images: string;
let built: string;
let gateway: EmbeddedGateway;
let url: string;
const auth = `Basic ${Buffer.from('admin:pw').toString('base64')}`;

const deploy = async (service: string, image: string) => {
  const response = await fetch(`${url}/system/functions`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ service, image, envProcess: 'node index.js' }),
  });
  return { status: response.status, text: await response.text() };
};
/** An image name the gateway finds at `folder`, as the local builder records it. */
const record = (image: string, folder: string) => {
  mkdirSync(join(images, 'by-name'), { recursive: true });
  writeFileSync(imageIndexPath(images, image), folder);
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'faasline-image-folder-'));
  images = join(work, 'data', 'images');
  built = await buildHandlerImage(work, join(work, 'data'), {
    owner: '1001',
    name: 'alice-fn',
    image: 'local/alice/fn:1',
    handler: 'module.exports = async () => ({ cwd: process.cwd() })\n',
  });
  gateway = testGateway({ dataDir: join(work, 'data'), imagesDir: images });
  url = await gateway.start(0);
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('an image folder', () => {
  it('the builder made is deployed', async () => {
    expect(await deploy('alice-fn', 'local/alice/fn:1')).toEqual({ status: 202, text: '' });
  }, 30_000);

  it('whose context is a symlink (to a runnable folder elsewhere) is refused', async () => {
    const elsewhere = join(work, 'data', 'elsewhere');
    cpSync(join(built, 'context'), elsewhere, { recursive: true });
    const folder = join(images, 'sha256-linked');
    mkdirSync(folder);
    symlinkSync(elsewhere, join(folder, 'context'));
    record('local/mallory/linked:1', folder);
    const { status, text } = await deploy('mallory-linked', 'local/mallory/linked:1');
    expect(status).toBe(500);
    expect(text).toBe("image local/mallory/linked:1: its folder is not a build's (its context is not a folder in the images folder)");
  }, 30_000);

  it('outside the images folder is refused', async () => {
    const outside = join(work, 'data', 'outside-image');
    cpSync(built, outside, { recursive: true });
    record('local/mallory/outside:1', outside);
    const { status } = await deploy('mallory-outside', 'local/mallory/outside:1');
    expect(status).toBe(500);
  }, 30_000);
});
