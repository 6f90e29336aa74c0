export * from './tokens.js';
export * from './projection.js';
export * from './backbone.module.js';
export * from './projector.module.js';
export * from './projector.service.js';
export * from './bootstrap.js';
