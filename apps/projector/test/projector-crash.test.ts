import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { silentLogger } from '#infra';
import { writeSyntheticHistory } from '../../../scripts/synthetic-history.js';
import { eventually, logModes, openTestBackbone, type TestBackbone } from '../../../libs/infra/test/support/backbones.js';
import { root } from '../../api/test/support/spawn-api.js';
import { READ_MODELS_SUBSCRIBER, readModelChecksum, ReadModelReplayer } from '../src/index.js';

/** The projector on its own, as `node dist/apps/projector/main.js` runs in a scaled-out deployment. */
function startProjector(databaseUrl: string): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl };
  delete env.KAFKA_BROKERS;
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

const checkpoint = async (backbone: TestBackbone) => {
  const [row] = await backbone.db.query(`SELECT position FROM subscription_checkpoints WHERE subscriber = $1`, [READ_MODELS_SUBSCRIBER]);
  return Number(row?.position ?? 0);
};

describe('projector killed mid-batch', () => {
  let backbone: TestBackbone;
  beforeAll(async () => {
    backbone = await openTestBackbone(logModes[0]!);
  });
  afterAll(() => backbone.close());

  it('SIGKILLed 20 times while events flow, ends with read models equal to a clean replay', async () => {
    let writing = true;
    let written = 0;
    const writer = (async () => {
      for (let round = 0; writing; round++) {
        written = await writeSyntheticHistory(backbone.database.url, 1_500, { seed: `flow-${round}` });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const positionsAtKill: number[] = [];
    for (let kill = 0; kill < 20; kill++) {
      const projector = await startProjector(backbone.database.url);
      const from = await checkpoint(backbone);
      // Kill once it is applying: its checkpoint has moved at least once since it started.
      await eventually(async () => (await checkpoint(backbone)) > from, 60_000, 'the projector to apply a batch');
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
      const exited = new Promise((resolve) => projector.once('exit', resolve));
      projector.kill('SIGKILL');
      await exited;
      positionsAtKill.push(await checkpoint(backbone));
    }
    writing = false;
    await writer;
    expect(positionsAtKill.at(-1)!).toBeGreaterThan(positionsAtKill[0]!);

    const projector = await startProjector(backbone.database.url);
    try {
      await eventually(async () => (await checkpoint(backbone)) === written, 120_000, 'the last projector to catch up');
    } finally {
      projector.kill('SIGINT');
    }
    const [audit] = await backbone.db.query(`SELECT count(*)::int AS n, count(DISTINCT position)::int AS distinct FROM read_audit`);
    expect(audit).toEqual({ n: written, distinct: written });
    const live = await readModelChecksum(backbone.db, 'live');
    const report = await new ReadModelReplayer(backbone.db, 'embedded', silentLogger).replay('admin:test');
    expect(report).toMatchObject({ status: 'done', eventsProcessed: written, checksumBefore: live });
    expect(report.checksumAfter).toBe(live);
  }, 300_000);
});
