import type { Projection } from './projection.js';
import { applyToReadModels, READ_MODELS_LOCK, READ_MODELS_SUBSCRIBER } from './projections/read-models.js';

/**
 * The live read models: every batch commits with the subscriber's checkpoint (see the event log port), holding the
 * read models' lock shared from its first statement, so a replay's swap never waits on a batch that waits on it.
 */
export const readModelsProjection: Projection = {
  name: READ_MODELS_SUBSCRIBER,
  handle: (events, tx) => applyToReadModels(tx, events),
  options: { sharedLock: READ_MODELS_LOCK, batchSize: 1000 },
};
