import type { Projection } from './projection.js';
import { applyToReadModels, READ_MODELS_LOCK, READ_MODELS_SUBSCRIBER } from './projections/read-models.js';

/** The live read models: every batch commits with the subscriber's checkpoint (see the event log port). */
export const readModelsProjection: Projection = {
  name: READ_MODELS_SUBSCRIBER,
  handle: async (events, tx) => {
    await tx.query('SELECT pg_advisory_xact_lock_shared($1)', [READ_MODELS_LOCK]);
    await applyToReadModels(tx, events);
  },
};
