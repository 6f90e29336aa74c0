import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import type { Event } from '#domain';
import type { Config } from '#infra';
import {
  createAppliedTable,
  eventually,
  logModes,
  recordApplied,
  openTestBackbone,
  summariseApplied,
  systemMetadata,
  type TestBackbone,
} from './support/backbones.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const event = (n: number): Event => ({
  type: 'PushIgnored',
  data: { deliveryId: `d${n}`, owner: 'o', repo: 'r', ref: 'refs/heads/x', sha: `${n}`, reason: 'fault test' },
});
const kafkaMode = logModes[1]!;

async function messagesOnTopic(kafka: NonNullable<Config['kafka']>): Promise<number> {
  const admin = new Kafka({ brokers: [...kafka.brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(kafka.topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('kafka log under faults', () => {
  describe('relay killed between the database commit and the broker acknowledgement', () => {
    let backbone: TestBackbone;
    beforeAll(async () => {
      backbone = await openTestBackbone(kafkaMode);
      await createAppliedTable(backbone.db);
    });
    afterAll(() => backbone.close());

    it('publishes what was committed while no relay ran, and a republished batch is applied once', async () => {
      const subscriber = `relay-${randomUUID()}`;
      // No relay yet: the state a relay crash leaves right after the commit, before anything reached Kafka.
      for (let n = 1; n <= 20; n += 1) await backbone.store.append(`relay-${n % 4}`, 'any', [event(n)], systemMetadata);
      const [pending] = await backbone.db.query(`SELECT count(*)::int AS n FROM outbox`);
      expect(pending.n).toBe(20);

      const subscription = await backbone.log.subscribe(subscriber, recordApplied(subscriber));
      await backbone.log.start();
      await eventually(async () => (await summariseApplied(backbone.db, subscriber)).total >= 20, 60_000, '20 applied events');
      await eventually(async () => (await backbone.db.query(`SELECT count(*)::int AS n FROM outbox`))[0].n === 0, 10_000, 'outbox drained');

      // A crash after the broker acknowledged but before the rows were marked sent: they are sent again.
      await backbone.db.query(`INSERT INTO outbox (global_position, stream_id) SELECT global_position, stream_id FROM events`);
      await eventually(async () => (await messagesOnTopic(backbone.kafka!)) === 40, 30_000, 'the batch published twice');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await summariseApplied(backbone.db, subscriber)).toEqual({ total: 20, distinct: 20, outOfOrderStreams: 0 });
      await subscription.close();
    });
  });

  describe('broker stopped and restarted while appends continue', () => {
    const env = {
      ...process.env,
      KAFKA_PORT: '19192',
      KAFKA_CONTROLLER_PORT: '19193',
      KAFKA_STATE_DIR: join(root, '.cache', `kafka-restart-${process.pid}`),
    };
    const kafkaScript = (command: string) =>
      execFileSync('bash', [join(root, 'deploy/local/kafka.sh'), command], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    let backbone: TestBackbone;

    beforeAll(async () => {
      kafkaScript('start');
      backbone = await openTestBackbone(kafkaMode, undefined, {
        brokers: ['127.0.0.1:19192'],
        topic: `faasline.restart.${randomUUID()}`,
        partitions: 6,
        replicationFactor: 1,
      });
      await createAppliedTable(backbone.db);
      await backbone.log.start();
    }, 120_000);
    afterAll(async () => {
      await backbone?.close();
      kafkaScript('stop');
      execFileSync('rm', ['-rf', env.KAFKA_STATE_DIR]);
    }, 60_000);

    it('loses nothing and applies nothing twice', async () => {
      const subscriber = `restart-${randomUUID()}`;
      const subscription = await backbone.log.subscribe(subscriber, recordApplied(subscriber));
      let appended = 0;
      let appending = true;
      const writers = Array.from({ length: 10 }, async (_, stream) => {
        for (let version = 0; appending; version += 1) {
          await backbone.store.append(`restart-${stream}`, version, [event(version)], systemMetadata);
          appended += 1;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      });
      await eventually(async () => (await summariseApplied(backbone.db, subscriber)).total > 50, 60_000, 'traffic before the stop');
      kafkaScript('stop');
      const appendedWhileDown = appended;
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(appended).toBeGreaterThan(appendedWhileDown); // the write side does not depend on the broker
      kafkaScript('start');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      appending = false;
      await Promise.all(writers);
      await eventually(
        async () => (await summariseApplied(backbone.db, subscriber)).total >= appended,
        120_000,
        `${appended} applied events`,
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await summariseApplied(backbone.db, subscriber)).toEqual({ total: appended, distinct: appended, outOfOrderStreams: 0 });
      await subscription.close();
    }, 240_000);
  });
});
