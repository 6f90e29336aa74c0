export * from './tokens.js';
export * from './backbone.module.js';
export * from './bootstrap.js';
export * from './probes.controller.js';
