import {
  fold,
  newestPushOn,
  repositoryDecider,
  streamIds,
  type FunctionEvent,
  type FunctionSpec,
  type PushContext,
  type RecordedEvent,
} from '#domain';
import type { EventStore } from '../event-store/event-store.port.js';

export type BuildOrigin = Readonly<{
  push: PushContext;
  spec: FunctionSpec;
  newestPushSequence: number;
  /** The event that recorded the build's image (BuildSucceeded or BuildReused). */
  builtEventId: string;
}>;

/**
 * The push and the stack entry a build of `name` was made from (its events share the push's delivery as their
 * correlation), with the newest push on that branch now; null when they are not recorded.
 */
export async function buildOrigin(
  store: EventStore,
  functionEvents: readonly RecordedEvent<FunctionEvent>[],
  name: string,
  buildId: string,
): Promise<BuildOrigin | null> {
  const built = functionEvents.find(
    (event) => (event.type === 'BuildSucceeded' || event.type === 'BuildReused') && event.data.buildId === buildId,
  );
  if (!built) return null;
  const deliveryId = built.metadata.correlationId;
  const { events } = await store.readStream(streamIds.repository(built.data.owner, built.data.repo));
  const received = events.find((event) => event.type === 'PushReceived' && event.data.deliveryId === deliveryId);
  const fetched = events.find((event) => event.type === 'SourceFetched' && event.data.deliveryId === deliveryId);
  if (received?.type !== 'PushReceived' || fetched?.type !== 'SourceFetched') return null;
  const spec = fetched.data.functions.find((fn) => fn.name === name);
  if (!spec) return null;
  const push = received.data;
  return {
    push: {
      deliveryId,
      owner: push.owner,
      repo: push.repo,
      branch: push.branch,
      sha: push.sha,
      installationId: push.installationId,
      pushSequence: received.metadata.streamVersion,
      private: push.private,
      ownerId: push.ownerId,
      repositoryId: push.repositoryId,
      cloneUrl: push.cloneUrl,
    },
    spec,
    newestPushSequence: newestPushOn(fold(repositoryDecider, events), push.branch).sequence,
    builtEventId: built.metadata.eventId,
  };
}
