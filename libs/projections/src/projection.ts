import type { CheckpointedHandler, SubscribeOptions } from '#infra';

/** A read model: its subscriber name (its checkpoint) and how each batch of events changes its rows. */
export type Projection = Readonly<{ name: string; handle: CheckpointedHandler; options?: SubscribeOptions }>;

export const PROJECTIONS = Symbol('PROJECTIONS');
