import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { currentSchemaVersions, type Event } from '#domain';
import type { Logger, Subscription } from '#infra';
import {
  createAppliedTable,
  eventually,
  logModes,
  openTestBackbone,
  recordApplied,
  summariseApplied,
  systemMetadata,
  type TestBackbone,
} from './support/backbones.js';

const ignored = (sha: string): Event => ({
  type: 'PushIgnored',
  data: { deliveryId: sha, owner: 'o', repo: 'r', ref: 'refs/tags/v1', sha, reason: 'tag' },
});
const NEWER = 99;

/**
 * A newer build wrote an event at a schemaVersion this build does not know (a rollback after a deploy, or an old
 * projector still running). The subscriber must stop at it and say why: applying it as if it were the version it
 * knows would write wrong rows, and skipping it would lose it for good.
 */
describe.each(logModes)('an event newer than this build reaching a subscriber ($name)', (mode) => {
  let backbone: TestBackbone;
  let subscription: Subscription | null = null;
  const errors: string[] = [];
  const logger: Logger = { info: () => undefined, warn: () => undefined, error: (message) => errors.push(message) };

  beforeAll(async () => {
    backbone = await openTestBackbone(mode, logger);
    await createAppliedTable(backbone.db);
  });
  afterAll(async () => {
    await subscription?.close();
    await backbone?.close();
  });

  it('parks at it, says which event and version, and applies nothing at or after it in its stream', async () => {
    await backbone.store.append('newer-a', 0, [ignored('a1'), ignored('a2'), ignored('a3')], systemMetadata);
    await backbone.store.append('newer-b', 0, [ignored('b1'), ignored('b2')], systemMetadata);
    // Stored as a newer build would have: before anything is published, so the log carries it as stored.
    await backbone.db.query(`UPDATE events SET schema_version = $1 WHERE stream_id = 'newer-a' AND stream_version = 2`, [NEWER]);
    const [newer] = await backbone.db.query(
      `SELECT event_id, global_position FROM events WHERE stream_id = 'newer-a' AND stream_version = 2`,
    );
    await backbone.log.start();
    subscription = await backbone.log.subscribe('newer-reader', recordApplied('newer-reader'));

    const known = currentSchemaVersions.PushIgnored;
    const reason = `PushIgnored v${NEWER} is newer than this build knows (v${known})`;
    // Retried, not dropped: it says so again on every attempt.
    await eventually(
      async () => errors.filter((line) => line.includes(reason)).length >= 2,
      60_000,
      'the subscriber to report the newer event twice',
    );
    expect(
      errors.filter((line) => line.includes(reason)).every((line) => line.startsWith('subscriber newer-reader: batch failed, retrying')),
    ).toBe(true);

    const applied: { event_id: string; version: number }[] = await backbone.db.query(
      `SELECT event_id, version FROM applied WHERE stream_id = 'newer-a' ORDER BY seq`,
    );
    expect(applied.map((row) => row.event_id)).not.toContain(newer.event_id);
    expect(applied.filter((row) => row.version >= 2)).toEqual([]);
    expect(await summariseApplied(backbone.db, 'newer-reader')).toMatchObject({ outOfOrderStreams: 0 });
    const { total, distinct } = await summariseApplied(backbone.db, 'newer-reader');
    expect(total).toBe(distinct);
    const [stored] = await backbone.db.query(`SELECT schema_version FROM events WHERE event_id = $1`, [newer.event_id]);
    expect(stored.schema_version).toBe(NEWER);
  });
});
