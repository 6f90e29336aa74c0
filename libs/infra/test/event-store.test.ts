import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  installationDecider,
  newestPushOn,
  repositoryDecider,
  repositorySnapshots,
  streamIds,
  upcasterRegistry,
  type Event,
  type RepositoryEvent,
} from '#domain';
import { handleCommand, PostgresEventStore, readState, SNAPSHOT_EVERY, snapshotsWritten, WrongExpectedVersion } from '#infra';
import { logModes, openTestBackbone, systemMetadata, type TestBackbone } from './support/backbones.js';

const received = (sha: string, branch = 'master'): RepositoryEvent => ({
  type: 'PushReceived',
  data: {
    deliveryId: `d-${sha}`,
    owner: 'o',
    ownerId: 1,
    repo: 'r',
    repositoryId: 2,
    private: false,
    ref: `refs/heads/${branch}`,
    branch,
    before: '0'.repeat(40),
    sha,
    cloneUrl: 'https://github.com/o/r.git',
    installationId: 7,
    pusher: 'o',
    receivedAt: 'now',
  },
});

const pushed = (sha: string): Event => ({
  type: 'PushIgnored',
  data: { deliveryId: sha, owner: 'o', repo: 'r', ref: 'refs/tags/v1', sha, reason: 'tag' },
});

describe.each(logModes)('event store on Postgres ($name)', (mode) => {
  let backbone: TestBackbone;
  beforeAll(async () => {
    backbone = await openTestBackbone(mode);
  });
  afterAll(() => backbone.close());

  it('appends to a new stream and reads it back with the full envelope', async () => {
    const result = await backbone.store.append('s-new', 0, [pushed('a'), pushed('b')], {
      correlationId: 'delivery-1',
      causationId: 'command-1',
      actor: 'github:alexellis',
    });
    expect(result.nextExpectedVersion).toBe(2);
    const { version, events } = await backbone.store.readStream('s-new');
    expect(version).toBe(2);
    expect(events.map((event) => [event.data, event.metadata.streamVersion])).toEqual([
      [pushed('a').data, 1],
      [pushed('b').data, 2],
    ]);
    expect(events[1]!.metadata).toMatchObject({
      streamId: 's-new',
      correlationId: 'delivery-1',
      causationId: 'command-1',
      actor: 'github:alexellis',
      schemaVersion: 1,
      globalPosition: events[0]!.metadata.globalPosition + 1,
    });
    expect(events[0]!.metadata.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(events[0]!.metadata.occurredAt)).not.toBeNaN();
  });

  it('stores hostile text exactly as given', async () => {
    const stream = `repository-o'brien/\\x"; DROP TABLE events; --`;
    const data = {
      deliveryId: "'); DELETE FROM events; --",
      owner: "back\\slash \\' quote",
      repo: "ünïcødé 🚀 $$ $1 E''",
      ref: '\n\t',
      sha: '\u2028',
      reason: '{"json": [1]}',
    };
    await backbone.store.append(stream, 0, [{ type: 'PushIgnored', data }], {
      correlationId: "c'1",
      causationId: 'c\\2',
      actor: "github:o'brien",
    });
    const { events } = await backbone.store.readStream(stream);
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toEqual(data);
    expect(events[0]!.metadata).toMatchObject({ streamId: stream, correlationId: "c'1", causationId: 'c\\2', actor: "github:o'brien" });
  });

  it('lets exactly one of two appends with the same expected version win', async () => {
    await backbone.store.append('s-race', 0, [pushed('0')], systemMetadata);
    const outcomes = await Promise.allSettled([
      backbone.store.append('s-race', 1, [pushed('x')], systemMetadata),
      backbone.store.append('s-race', 1, [pushed('y')], systemMetadata),
    ]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const [rejected] = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(rejected!.reason).toBeInstanceOf(WrongExpectedVersion);
    expect(rejected!.reason).toMatchObject({ streamId: 's-race', expected: 1, actual: 2 });
    expect((await backbone.store.readStream('s-race')).version).toBe(2);
  });

  it('rejects an append to a stream that already exists when none was expected', async () => {
    await backbone.store.append('s-exists', 0, [pushed('a')], systemMetadata);
    await expect(backbone.store.append('s-exists', 0, [pushed('b')], systemMetadata)).rejects.toBeInstanceOf(WrongExpectedVersion);
  });

  it('isolates a conflicting append from the others committed in the same group', async () => {
    const streams = Array.from({ length: 40 }, (_, index) => `s-group-${index}`);
    const outcomes = await Promise.allSettled(
      streams.flatMap((stream) => [
        backbone.store.append(stream, 0, [pushed('a')], systemMetadata),
        backbone.store.append(stream, 0, [pushed('b')], systemMetadata),
      ]),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(40);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected' && outcome.reason instanceof WrongExpectedVersion)).toHaveLength(40);
    for (const stream of streams) expect((await backbone.store.readStream(stream)).version).toBe(1);
  });

  it('assigns gapless global positions in commit order under concurrency', async () => {
    const before = await backbone.store.headPosition();
    await Promise.all(
      Array.from({ length: 200 }, (_, index) => backbone.store.append(`s-pos-${index % 20}`, 'any', [pushed(`${index}`)], systemMetadata)),
    );
    const all = await backbone.store.readAll(before, 1000);
    expect(all.map((event) => event.metadata.globalPosition)).toEqual(Array.from({ length: 200 }, (_, index) => before + index + 1));
    const versions = new Map<string, number>();
    for (const event of all) {
      const previous = versions.get(event.metadata.streamId) ?? 0;
      expect(event.metadata.streamVersion).toBe(previous + 1);
      versions.set(event.metadata.streamId, event.metadata.streamVersion);
    }
  });

  it('reads an event stored at an old schemaVersion as the current version', async () => {
    const current = { PushIgnored: 2 };
    const upcast = upcasterRegistry([{ type: 'PushIgnored', from: 1, upcast: (data) => ({ ...(data as object), branch: null }) }], current);
    await backbone.store.append('s-old', 0, [pushed('old')], systemMetadata);
    const [stored] = await backbone.db.query(`SELECT schema_version FROM events WHERE stream_id = 's-old'`);
    expect(stored.schema_version).toBe(1);
    const upcasting = new PostgresEventStore(backbone.db, { outbox: false, upcast });
    const { events } = await upcasting.readStream('s-old');
    expect(events[0]!.metadata.schemaVersion).toBe(2);
    expect(events[0]!.data).toEqual({ ...(pushed('old').data as object), branch: null });
    const fromAll = await upcasting.readAll(events[0]!.metadata.globalPosition - 1, 1);
    expect(fromAll[0]!.data).toEqual(events[0]!.data);
  });

  it('retries a command with a fresh load when another writer got there first', async () => {
    const stream = streamIds.installation(42);
    const account = { installationId: 42, account: 'openfaas', accountId: 1 };
    const repo = (name: string) => ({ owner: 'openfaas', repo: name, repositoryId: name.length, private: false });
    await backbone.store.append(stream, 0, [{ type: 'InstallationCreated', data: { ...account, repositories: [] } }], systemMetadata);
    const results = await Promise.all(
      ['a', 'bb', 'ccc', 'dddd', 'a'].map((name) =>
        handleCommand(
          backbone.store,
          installationDecider,
          stream,
          { type: 'AddRepositories', data: { installationId: 42, repositories: [repo(name)] } },
          systemMetadata,
        ),
      ),
    );
    const { events } = await backbone.store.readStream(stream);
    expect(
      events
        .filter((event) => event.type === 'RepositoryAdded')
        .map((event) => (event.data as { repo: string }).repo)
        .sort(),
    ).toEqual(['a', 'bb', 'ccc', 'dddd']);
    expect(results.filter((result) => result.result === null)).toHaveLength(1);
  });

  it('writes an outbox row for each appended event on the Kafka log (none for a duplicate), and none when the events table is the log', async () => {
    const metadata = { ...systemMetadata, idempotencyKey: 'outbox:once' };
    const appended = await backbone.store.append('s-outbox', 'any', [pushed('o1'), pushed('o2')], metadata);
    expect((await backbone.store.append('s-outbox', 'any', [pushed('o1'), pushed('o2')], metadata)).duplicate).toBe(true);
    // The relay is not started here, so every row an append wrote is still queued.
    const queued: { position: string; stream_id: string }[] = await backbone.db.query(
      `SELECT global_position AS position, stream_id FROM outbox ORDER BY global_position`,
    );
    const stored: { position: string; stream_id: string }[] = await backbone.db.query(
      `SELECT global_position AS position, stream_id FROM events ORDER BY global_position`,
    );
    const onKafka = backbone.kafka !== null;
    expect(queued).toEqual(onKafka ? stored : []);
    expect(queued.filter((row) => row.stream_id === 's-outbox').map((row) => Number(row.position))).toEqual(
      onKafka ? appended.events.map((event) => event.metadata.globalPosition) : [],
    );
  });

  it('appends an idempotency key once, even when the duplicates share a group commit', async () => {
    const metadata = { ...systemMetadata, idempotencyKey: 'delivery:same' };
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => backbone.store.append('s-idempotent', 'any', [pushed('x'), pushed('y')], metadata)),
    );
    expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
    expect(results.filter((result) => result.duplicate).every((result) => result.events.length === 0)).toBe(true);
    const later = await backbone.store.append('s-idempotent', 'any', [pushed('z')], metadata);
    expect(later.duplicate).toBe(true);
    const { events } = await backbone.store.readStream('s-idempotent');
    expect(events.map((event) => (event.data as { sha: string }).sha)).toEqual(['x', 'y']);
    const other = await backbone.store.append('s-idempotent', 'any', [pushed('w')], {
      ...systemMetadata,
      idempotencyKey: 'delivery:other',
    });
    expect(other.duplicate).toBe(false);
    expect(other.events[0]!.metadata.eventId).not.toBe(events[0]!.metadata.eventId);
  });

  it('knows whether a correlation (a webhook delivery) has any stored event', async () => {
    expect(await backbone.store.wasCorrelated('delivery-never-seen')).toBe(false);
    await backbone.store.append('s-correlated', 'any', [pushed('c')], { ...systemMetadata, correlationId: 'delivery-seen' });
    expect(await backbone.store.wasCorrelated('delivery-seen')).toBe(true);
  });

  it('appends the first of a correlation only once, even when its rivals share a group commit and carry other keys', async () => {
    const first = (key: string) => ({ ...systemMetadata, correlationId: 'delivery-once', idempotencyKey: key, firstOfCorrelation: true });
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((sha) => backbone.store.append('s-first-of-correlation', 'any', [pushed(sha)], first(`body:${sha}`))),
    );
    expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
    expect(results.filter((result) => result.duplicate).every((result) => result.events.length === 0)).toBe(true);
    expect((await backbone.store.append('s-first-of-correlation', 'any', [pushed('e')], first('body:e'))).duplicate).toBe(true);
    expect((await backbone.store.readStream('s-first-of-correlation')).events).toHaveLength(1);
    // Without the flag a correlation may go on: a delivery's later steps record under the same id.
    const later = await backbone.store.append('s-first-of-correlation', 'any', [pushed('f')], {
      ...systemMetadata,
      correlationId: 'delivery-once',
    });
    expect(later.duplicate).toBe(false);
    const other = await backbone.store.append('s-first-of-correlation', 'any', [pushed('g')], {
      ...first('body:g'),
      correlationId: "delivery-'other'",
    });
    expect(other.duplicate).toBe(false);
  });
  it('reads a stream from a version on, and one delivery of it', async () => {
    await backbone.store.append('s-range', 0, [pushed('r1'), pushed('r2')], { ...systemMetadata, correlationId: 'delivery-r1' });
    await backbone.store.append('s-range', 2, [pushed('r3')], { ...systemMetadata, correlationId: 'delivery-r3' });
    const from2 = await backbone.store.readStream('s-range', { from: 2 });
    expect(from2.events.map((event) => event.metadata.streamVersion)).toEqual([2, 3]);
    expect(from2.version).toBe(3);
    expect(await backbone.store.readStream('s-range', { from: 4 })).toEqual({ version: 3, events: [] });
    const delivery = await backbone.store.readStream('s-range', { correlationId: 'delivery-r1' });
    expect(delivery.events.map((event) => (event.data as { sha: string }).sha)).toEqual(['r1', 'r2']);
  });

  describe('snapshots', () => {
    /** A store of its own: no fold of an earlier read in this process to start from. */
    const freshStore = () => new PostgresEventStore(backbone.db, { outbox: false });
    const seed = async (stream: ReturnType<typeof streamIds.repository>, shas: readonly string[]) => {
      const { events } = await backbone.store.append(
        stream,
        'any',
        shas.map((sha) => received(sha)),
        systemMetadata,
      );
      return events;
    };
    /** A snapshot no fold of the events could give: a branch no push named. */
    const marked = (version: number) => ({ version, newestByBranch: new Map([['marked', { sequence: version, sha: 'snapshot' }]]) });

    it('folds only the events after a stored snapshot', async () => {
      const stream = streamIds.repository('snap', 'used');
      const events = await seed(stream, ['a1', 'a2', 'a3']);
      await backbone.store.writeSnapshot(stream, {
        name: repositorySnapshots.name,
        schemaVersion: repositorySnapshots.version,
        version: 2,
        eventId: events[1]!.metadata.eventId,
        state: repositorySnapshots.toJson(marked(2)),
      });
      const { version, state } = await readState(freshStore(), repositoryDecider, stream);
      expect(version).toBe(3);
      expect(state.newestByBranch.get('marked')).toEqual({ sequence: 2, sha: 'snapshot' });
      expect(newestPushOn(state, 'master')).toEqual({ sequence: 3, sha: 'a3' });
      expect(state.version).toBe(3);
    });

    it('ignores a snapshot of another schema version', async () => {
      const stream = streamIds.repository('snap', 'other-version');
      const events = await seed(stream, ['b1', 'b2']);
      await backbone.store.writeSnapshot(stream, {
        name: repositorySnapshots.name,
        schemaVersion: repositorySnapshots.version + 1,
        version: 2,
        eventId: events[1]!.metadata.eventId,
        state: { written: 'by other code', shape: [] },
      });
      const { state } = await readState(freshStore(), repositoryDecider, stream);
      expect(state).toEqual({ version: 2, newestByBranch: new Map([['master', { sequence: 2, sha: 'b2' }]]) });
    });

    it('never loses events to a snapshot that does not match the stream (another event at its version, or none)', async () => {
      const stream = streamIds.repository('snap', 'stale');
      await seed(stream, ['c1', 'c2', 'c3']);
      const expected = { version: 3, newestByBranch: new Map([['master', { sequence: 3, sha: 'c3' }]]) };
      for (const [version, eventId] of [
        [2, '00000000-0000-4000-8000-000000000000'],
        [7, '00000000-0000-4000-8000-000000000001'],
      ] as const) {
        await backbone.db.query('DELETE FROM snapshots WHERE stream_id = $1', [stream]);
        await backbone.store.writeSnapshot(stream, {
          name: repositorySnapshots.name,
          schemaVersion: repositorySnapshots.version,
          version,
          eventId,
          state: repositorySnapshots.toJson(marked(version)),
        });
        expect((await readState(freshStore(), repositoryDecider, stream)).state).toEqual(expected);
      }
    });

    it(`writes a snapshot once ${SNAPSHOT_EVERY} events were folded beyond the last, which a later reader starts from`, async () => {
      const stream = streamIds.repository('snap', 'written');
      const shas = Array.from({ length: SNAPSHOT_EVERY + 5 }, (_, index) => `w${index + 1}`);
      await seed(stream, shas.slice(0, SNAPSHOT_EVERY - 1));
      await readState(freshStore(), repositoryDecider, stream);
      await snapshotsWritten();
      expect(await backbone.store.readSnapshot(stream, repositorySnapshots.name, repositorySnapshots.version)).toBeNull();
      await seed(stream, shas.slice(SNAPSHOT_EVERY - 1));
      const full = await readState(freshStore(), repositoryDecider, stream);
      await snapshotsWritten();
      const snapshot = await backbone.store.readSnapshot(stream, repositorySnapshots.name, repositorySnapshots.version);
      expect(snapshot?.version).toBe(SNAPSHOT_EVERY + 5);
      expect(repositorySnapshots.fromJson(snapshot!.state)).toEqual(full.state);
      // A later snapshot stays: an older one written late (a slow writer) does not replace it.
      await backbone.store.writeSnapshot(stream, { ...snapshot!, version: 3, state: repositorySnapshots.toJson(marked(3)) });
      expect((await backbone.store.readSnapshot(stream, repositorySnapshots.name, repositorySnapshots.version))?.version).toBe(
        SNAPSHOT_EVERY + 5,
      );
      await seed(stream, ['w-after']);
      expect(await readState(freshStore(), repositoryDecider, stream)).toEqual({
        version: SNAPSHOT_EVERY + 6,
        state: { version: SNAPSHOT_EVERY + 6, newestByBranch: new Map([['master', { sequence: SNAPSHOT_EVERY + 6, sha: 'w-after' }]]) },
      });
    });

    it("sees another writer's events after its own earlier read, and decides on them", async () => {
      const stream = streamIds.repository('snap', 'two-writers');
      await seed(stream, ['d1']);
      const [mine, theirs] = [freshStore(), freshStore()];
      expect(newestPushOn((await readState(mine, repositoryDecider, stream)).state, 'master').sha).toBe('d1');
      await theirs.append(stream, 'any', [received('d2')], systemMetadata);
      expect(newestPushOn((await readState(mine, repositoryDecider, stream)).state, 'master')).toEqual({ sequence: 2, sha: 'd2' });
      // A re-run is decided against the newest push, which only the other writer recorded.
      const rerun = {
        deliveryId: 'rerun-1',
        owner: 'o',
        ownerId: 1,
        repo: 'r',
        repositoryId: 2,
        private: false,
        cloneUrl: 'https://github.com/o/r.git',
        installationId: 7,
        receivedAt: 'now',
        defaultBranch: 'master',
        checkRunId: 5,
        checkRunAppId: 9,
        appId: 9,
        branch: 'master',
        before: null,
        sha: 'd1',
        sender: 'o',
        policy: { customers: null, buildBranch: null },
      };
      const { result } = await handleCommand(mine, repositoryDecider, stream, { type: 'RecordRerun', data: rerun }, systemMetadata);
      expect(result?.events.map((event) => [event.type, (event.data as { reason?: string }).reason])).toEqual([
        ['PushIgnored', 're-run of d1 ignored: d2 is the newest push on master'],
      ]);
    });
  });
});
