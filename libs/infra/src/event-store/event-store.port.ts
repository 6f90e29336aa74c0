import type { Actor, Event, RecordedEvent, StreamId } from '#domain';

/** `0` means the stream must not exist yet; `'any'` skips the check (for streams with a single writer). */
export type ExpectedVersion = number | 'any';

export type CausationMetadata = Readonly<{
  correlationId: string;
  causationId: string;
  actor: Actor;
  /**
   * Makes the append happen at most once: its event ids derive from this key, and an append whose first id is
   * already stored is answered `duplicate` without writing. A webhook delivery id, or the id of the event a
   * pipeline step reacted to, so a redelivery or a re-run after a crash records nothing twice.
   */
  idempotencyKey?: string;
  /**
   * Makes the append happen only if no event of `correlationId` is stored yet, and answers it `duplicate`
   * otherwise: a webhook delivery id already recorded stays recorded, whatever body comes with it again. Checked
   * inside the append's transaction, so the door needs no read of its own per delivery.
   */
  firstOfCorrelation?: boolean;
}>;

export type AppendResult = Readonly<{
  nextExpectedVersion: number;
  lastPosition: number;
  events: readonly RecordedEvent<Event>[];
  /** The idempotency key had been appended before; nothing was written. */
  duplicate: boolean;
}>;

export type StreamRead<E extends Event = Event> = Readonly<{ version: number; events: readonly RecordedEvent<E>[] }>;

/**
 * Part of a stream: `from` reads its events from that version on (inclusive, so a reader holding a fold up to
 * `from` can check the event it ends with is still the one stored there); `correlationId` only one delivery's.
 */
export type StreamRange = Readonly<{ from?: number; correlationId?: string }>;

/**
 * A stream's state as a decider folded it up to `version`, whose event was `eventId`: a write-side cache, never
 * a source of truth. It is read only under the same name and schema version, and only while the event at its
 * version is still `eventId`; anything else folds the stream again from its events.
 */
export type Snapshot = Readonly<{ name: string; schemaVersion: number; version: number; eventId: string; state: unknown }>;

/**
 * Streams named with `streamIds` are typed by kind: a function stream takes and gives function events. Plain
 * string ids (tools, tests) read and write any event.
 */
export interface EventStore {
  append<E extends Event>(
    streamId: StreamId<E>,
    expectedVersion: ExpectedVersion,
    events: readonly E[],
    metadata: CausationMetadata,
  ): Promise<AppendResult>;
  append(streamId: string, expectedVersion: ExpectedVersion, events: readonly Event[], metadata: CausationMetadata): Promise<AppendResult>;
  /** `version` is the stream's version as far as the read went: its last event's, or `from - 1` when it read none. */
  readStream<E extends Event>(streamId: StreamId<E>, range?: StreamRange): Promise<StreamRead<E>>;
  readStream(streamId: string, range?: StreamRange): Promise<StreamRead>;
  /** The newest snapshot of `streamId` named `name` at `schemaVersion`, or null. */
  readSnapshot(streamId: string, name: string, schemaVersion: number): Promise<Snapshot | null>;
  /** Keeps `snapshot` unless one at a later stream version is kept already. */
  writeSnapshot(streamId: string, snapshot: Snapshot): Promise<void>;
  /** Events after `position` in commit order, at most `limit`. */
  readAll(position: number, limit: number): Promise<readonly RecordedEvent<Event>[]>;
  headPosition(): Promise<number>;
  /** Whether an append with this idempotency key was stored. */
  wasAppended(idempotencyKey: string): Promise<boolean>;
  /** Whether any event of this correlation (a webhook delivery id) is stored. */
  wasCorrelated(correlationId: string): Promise<boolean>;
  /** Called in this process after each commit with the new head position and the events it stored; returns an unsubscribe function. */
  onAppended(listener: (head: number, events: readonly RecordedEvent<Event>[]) => void): () => void;
}

export class WrongExpectedVersion extends Error {
  override readonly name = 'WrongExpectedVersion';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
  ) {
    super(`stream ${streamId} is at version ${actual}, expected ${expected}`);
  }
}
