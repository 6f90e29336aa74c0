export * from './embedded-gateway.js';
export * from './configured-gateway.js';
export * from './function-process.js';
