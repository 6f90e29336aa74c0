import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { holdsLocalImage } from './local.adapter.js';

/** Whether the builder still has an image to deploy: the local builder's may have been evicted from disk. */
export type HeldImages = Readonly<{ holds(image: string): Promise<boolean> }>;

/** BuildKit pushes its images to the registry, which keeps them; the local builder keeps them under DATA_DIR/images. */
export function heldImages(config: Pick<Config, 'buildkitAddr' | 'dataDir'>): HeldImages {
  if (config.buildkitAddr) return { holds: async () => true };
  const imagesDir = join(config.dataDir, 'images');
  return { holds: (image) => holdsLocalImage(imagesDir, image) };
}
