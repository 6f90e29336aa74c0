import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestBackbone } from '../../../../libs/infra/test/support/backbones.js';

const root = fileURLToPath(new URL('../../../..', import.meta.url));

/** The projector on its own, as `node dist/apps/projector/main.js` runs in a scaled-out deployment. */
export function startProjector(backbone: TestBackbone, extraEnv: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: backbone.database.url, ...extraEnv };
  delete env.KAFKA_BROKERS;
  if (backbone.kafka) Object.assign(env, { KAFKA_BROKERS: backbone.kafka.brokers.join(','), KAFKA_TOPIC: backbone.kafka.topic });
  const child = spawn(process.execPath, [join(root, 'dist/apps/projector/main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('projecting from')) resolve(child);
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code, signal) => reject(new Error(`projector exited ${code ?? signal} before starting:\n${output}`)));
  });
}
