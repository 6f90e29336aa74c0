export * from './embedded-gateway.js';
export * from './function-process.js';
