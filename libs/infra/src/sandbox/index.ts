export * from './sandbox.port.js';
export * from './open-sandbox.js';
export { BubblewrapSandbox } from './bubblewrap.sandbox.js';
