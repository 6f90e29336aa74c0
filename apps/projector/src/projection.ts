import type { CheckpointedHandler } from '#infra';

/** A read model: its subscriber name (its checkpoint) and how each batch of events changes its rows. */
export type Projection = Readonly<{ name: string; handle: CheckpointedHandler }>;

export const PROJECTIONS = Symbol('PROJECTIONS');
