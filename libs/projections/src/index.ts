export * from './projection.js';
export * from './projector.module.js';
export * from './projector.service.js';
export * from './read-models.projection.js';
export * from './projections/read-models.js';
export * from './projections/row-projection.js';
export * from './replay/read-model-replayer.js';
