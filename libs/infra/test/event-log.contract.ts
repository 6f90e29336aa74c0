import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Event } from '#domain';
import type { CheckpointedHandler } from '#infra';
import {
  createAppliedTable,
  eventually,
  openTestBackbone,
  recordApplied,
  summariseApplied,
  systemMetadata,
  type LogMode,
  type TestBackbone,
} from './support/backbones.js';

const here = dirname(fileURLToPath(import.meta.url));
const event = (n: number): Event => ({
  type: 'PushIgnored',
  data: { deliveryId: `d${n}`, owner: 'o', repo: 'r', ref: 'refs/heads/x', sha: `${n}`, reason: 'test' },
});

/** 1,000 single-event appends over 100 streams from concurrent writers; returns when all are committed. */
async function appendConcurrently(backbone: TestBackbone, prefix: string, total = 1000, streams = 100): Promise<void> {
  const writers = Array.from({ length: streams }, async (_, stream) => {
    for (let version = 0; version < total / streams; version += 1) {
      await backbone.store.append(`${prefix}-${stream}`, version, [event(version)], systemMetadata);
    }
  });
  await Promise.all(writers);
}

/** The one contract both event log adapters must meet: every event applied exactly once, in stream order. */
export function eventLogContract(mode: LogMode): void {
  describe(`event log contract: ${mode.name}`, () => {
    let backbone: TestBackbone;
    beforeAll(async () => {
      backbone = await openTestBackbone(mode);
      await createAppliedTable(backbone.db);
      await backbone.log.start();
    });
    afterAll(() => backbone.close());

    it('delivers appended events to a subscriber with their envelope', async () => {
      const subscriber = `basic-${randomUUID()}`;
      const seen: string[] = [];
      const subscription = await backbone.log.subscribe(subscriber, async (events) => {
        seen.push(
          ...events.filter((e) => e.metadata.streamId === 'basic').map((e) => `${e.type}:${e.metadata.streamVersion}:${e.metadata.actor}`),
        );
      });
      await backbone.store.append('basic', 0, [event(1), event(2)], systemMetadata);
      await eventually(async () => seen.length === 2, 30_000, 'two events');
      expect(seen).toEqual(['PushIgnored:1:system:test', 'PushIgnored:2:system:test']);
      await subscription.close();
    });

    it('holds every batch back while its shared lock is held exclusively, and applies them once it is released', async () => {
      const subscriber = `locked-${randomUUID()}`;
      const lock = 7166749999;
      const seen: number[] = [];
      const stream = `locked-${randomUUID()}`;
      const subscription = await backbone.log.subscribe(
        subscriber,
        async (events) => {
          seen.push(...events.filter((e) => e.metadata.streamId === stream).map((e) => e.metadata.streamVersion));
        },
        { sharedLock: lock },
      );
      const holder = backbone.db.createQueryRunner();
      await holder.connect();
      await holder.query('SELECT pg_advisory_lock($1)', [lock]);
      try {
        await backbone.store.append(stream, 0, [event(1), event(2)], systemMetadata);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(seen).toEqual([]);
      } finally {
        await holder.query('SELECT pg_advisory_unlock($1)', [lock]);
        await holder.release();
      }
      await eventually(async () => seen.length === 2, 30_000, 'the held-back batch');
      expect(seen).toEqual([1, 2]);
      await subscription.close();
    });

    it('applies 1,000 concurrent appends over 100 streams exactly once, in per-stream order', async () => {
      const subscriber = `concurrent-${randomUUID()}`;
      const prefix = randomUUID();
      const subscription = await backbone.log.subscribe(subscriber, async (events, tx) => {
        await recordApplied(subscriber)(
          events.filter((e) => e.metadata.streamId.startsWith(prefix)),
          tx,
        );
      });
      await appendConcurrently(backbone, prefix);
      await eventually(async () => (await summariseApplied(backbone.db, subscriber)).total >= 1000, 60_000, '1,000 applied events');
      await new Promise((resolve) => setTimeout(resolve, 500)); // room for a duplicate to show up
      expect(await summariseApplied(backbone.db, subscriber)).toEqual({ total: 1000, distinct: 1000, outOfOrderStreams: 0 });
      await subscription.close();
    });

    it('rolls back a failed batch with its checkpoint and applies it on retry', async () => {
      const subscriber = `failing-${randomUUID()}`;
      const prefix = randomUUID();
      let failuresLeft = 2;
      const subscription = await backbone.log.subscribe(subscriber, async (events, tx) => {
        const mine = events.filter((e) => e.metadata.streamId.startsWith(prefix));
        await recordApplied(subscriber)(mine, tx);
        if (mine.length > 0 && failuresLeft-- > 0) throw new Error('handler failed after writing');
      });
      await backbone.store.append(`${prefix}-1`, 0, [event(1), event(2), event(3)], systemMetadata);
      await eventually(async () => (await summariseApplied(backbone.db, subscriber)).total >= 3, 30_000, 'retried batch');
      expect(await summariseApplied(backbone.db, subscriber)).toEqual({ total: 3, distinct: 3, outOfOrderStreams: 0 });
      await subscription.close();
    });

    it('applies each event once when two instances of one subscriber run side by side', async () => {
      const subscriber = `twins-${randomUUID()}`;
      const prefix = randomUUID();
      const handler: CheckpointedHandler = async (events, tx) =>
        recordApplied(subscriber)(
          events.filter((e) => e.metadata.streamId.startsWith(prefix)),
          tx,
        );
      const first = await backbone.log.subscribe(subscriber, handler, { batchSize: 20 });
      const second = await backbone.log.subscribe(subscriber, handler, { batchSize: 20 });
      await appendConcurrently(backbone, prefix, 400, 40);
      await eventually(async () => (await summariseApplied(backbone.db, subscriber)).total >= 400, 60_000, '400 applied events');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await summariseApplied(backbone.db, subscriber)).toEqual({ total: 400, distinct: 400, outOfOrderStreams: 0 });
      await Promise.all([first.close(), second.close()]);
    });

    it('applies every event exactly once across SIGKILLs of the subscriber process mid-batch', async () => {
      const subscriber = `killed-${randomUUID()}`;
      const prefix = randomUUID();
      const appending = appendConcurrently(backbone, prefix);
      let kills = 0;
      // Kill on the 3rd batch it reports as half-applied, three times over; then let it finish.
      while (kills < 3) {
        const child = startWorker(backbone, subscriber);
        await waitForLines(child, 'mid-batch', 3);
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
        kills += 1;
      }
      await appending;
      const survivor = startWorker(backbone, subscriber);
      try {
        await eventually(async () => (await countMine(backbone, subscriber, prefix)) >= 1000, 90_000, '1,000 events after restarts');
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(await countMine(backbone, subscriber, prefix)).toBe(1000);
        expect(await summariseApplied(backbone.db, subscriber)).toMatchObject({ outOfOrderStreams: 0 });
        const [dupes] = await backbone.db.query(`SELECT count(*) - count(DISTINCT event_id) AS n FROM applied WHERE subscriber = $1`, [
          subscriber,
        ]);
        expect(Number(dupes.n)).toBe(0);
      } finally {
        survivor.kill('SIGKILL');
      }
    });
  });
}

function startWorker(backbone: TestBackbone, subscriber: string): ChildProcess {
  return spawn(process.execPath, [join(here, 'support', 'subscriber-worker.mjs')], {
    env: {
      ...process.env,
      SUBSCRIBER: subscriber,
      DATABASE_URL: backbone.database.url,
      KAFKA_TOPIC: backbone.kafka?.topic ?? '',
      KAFKA_BROKERS: backbone.kafka?.brokers.join(',') ?? '',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function waitForLines(child: ChildProcess, line: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`worker never reported "${line}" ${count} times`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      seen += lines.filter((l) => l === line).length;
      if (seen >= count) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => seen < count && reject(new Error(`worker exited (${code}) before "${line}"`)));
  });
}

async function countMine(backbone: TestBackbone, subscriber: string, prefix: string): Promise<number> {
  const [row] = await backbone.db.query(`SELECT count(*)::int AS n FROM applied WHERE subscriber = $1 AND stream_id LIKE $2`, [
    subscriber,
    `${prefix}%`,
  ]);
  return row.n;
}
