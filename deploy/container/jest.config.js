/**
 * npm run test:image: the container image built and run for real (podman, buildah, mmdebstrap). Kept apart from
 * npm test, whose roots are apps and libs: it needs root or rootless podman and builds an image.
 */
export default {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/deploy/container'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironmentOptions: { customExportConditions: ['node', 'node-addons', '@faasline/source'] },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.jest.json' }] },
  testTimeout: 120_000,
  verbose: true,
};
