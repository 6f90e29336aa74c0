import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { silentLogger } from '#infra';
import { writeSyntheticHistory } from '../../../scripts/synthetic-history.js';
import { eventually, logModes, openTestBackbone, type TestBackbone } from '../../../libs/infra/test/support/backbones.js';
import { READ_MODELS_SUBSCRIBER, readModelChecksum, ReadModelReplayer } from '#projections';
import { startProjector } from './support/start-projector.js';

const checkpoint = async (backbone: TestBackbone) => {
  const [row] = await backbone.db.query(`SELECT position FROM subscription_checkpoints WHERE subscriber = $1`, [READ_MODELS_SUBSCRIBER]);
  return Number(row?.position ?? 0);
};

// A projector killed on Kafka rejoins its consumer group only after the broker drops the dead member (its session
// timeout), so each kill there costs seconds: fewer kills prove the same thing.
const crashModes = logModes.map((mode, index) => ({ ...mode, kills: index === 0 ? 20 : 5 }));

describe.each(crashModes)('projector killed mid-batch ($name)', ({ kills, ...mode }) => {
  let backbone: TestBackbone;
  // A projector left running after a failure would stay in its consumer group on the shared broker: end them all.
  const projectors: ChildProcess[] = [];
  const projector = async () => {
    const child = await startProjector(backbone);
    projectors.push(child);
    return child;
  };
  beforeAll(async () => {
    backbone = await openTestBackbone(mode);
    // The projector only consumes: the relay that publishes the outbox to Kafka runs beside the api, here this process.
    await backbone.log.start();
  });
  afterAll(async () => {
    for (const child of projectors) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await backbone.close();
  });

  it(`SIGKILLed ${kills} times while events flow, ends with read models equal to a clean replay`, async () => {
    let writing = true;
    let written = 0;
    const writer = (async () => {
      for (let round = 0; writing; round++) {
        written = await writeSyntheticHistory(backbone.database.url, 1_500, { seed: `flow-${round}`, outbox: backbone.kafka !== null });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const positionsAtKill: number[] = [];
    for (let kill = 0; kill < kills; kill++) {
      const running = await projector();
      const from = await checkpoint(backbone);
      // Kill once it is applying: its checkpoint has moved at least once since it started.
      await eventually(async () => (await checkpoint(backbone)) > from, 120_000, 'the projector to apply a batch');
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
      positionsAtKill.push(await checkpoint(backbone));
    }
    writing = false;
    await writer;
    expect(positionsAtKill.at(-1)!).toBeGreaterThan(positionsAtKill[0]!);

    const last = await projector();
    try {
      // On Kafka the checkpoint is the highest position applied across partitions: wait for every event as well.
      const applied = async () => (await backbone.db.query(`SELECT count(*)::int AS n FROM read_audit`))[0].n;
      await eventually(
        async () => (await checkpoint(backbone)) === written && (await applied()) >= written,
        120_000,
        'the last projector to catch up',
      );
    } finally {
      last.kill('SIGINT');
    }
    const [audit] = await backbone.db.query(`SELECT count(*)::int AS n, count(DISTINCT position)::int AS distinct FROM read_audit`);
    expect(audit).toEqual({ n: written, distinct: written });
    const live = await readModelChecksum(backbone.db, 'live');
    const report = await new ReadModelReplayer(backbone.db, backbone.kafka ? 'kafka' : 'embedded', silentLogger).replay('admin:test');
    expect(report).toMatchObject({ status: 'done', eventsProcessed: written, checksumBefore: live });
    expect(report.checksumAfter).toBe(live);
  }, 600_000);
});
