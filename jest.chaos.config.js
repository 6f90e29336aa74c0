import base from './jest.config.js';

/** `npm run chaos` (scripts/chaos.js): the fault-injection run alone; `npm test` never matches `*.chaos.ts`. */
export default {
  ...base,
  roots: ['<rootDir>/apps'],
  testMatch: ['**/test/chaos/**/*.chaos.ts'],
  testTimeout: 1_800_000,
};
