#!/usr/bin/env node
// `npm test`: type-check and build (child-process tests run the built code), start what the suite needs that
// the environment does not name, run Jest in native ESM mode, and stop what it started.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (command, args, options = {}) => execFileSync(command, args, { cwd: root, stdio: 'inherit', ...options });

run(process.execPath, ['node_modules/typescript/bin/tsc', '-b']);
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.jest.json', '--noEmit']);

const env = { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' };
/** Starts a service with its deploy/local script, which prints `NAME=value` last; returns the value. */
const startLocal = (script, name) =>
  execFileSync('bash', [join(root, 'deploy/local', script), 'start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] })
    .toString()
    .trim()
    .split('\n')
    .at(-1)
    .replace(new RegExp(`^${name}=`), '');
let startedKafka = false;
if (!env.KAFKA_BROKERS) {
  // No Kafka named: run our own single-node broker so the Kafka half of the suite runs too.
  env.KAFKA_PORT = env.KAFKA_PORT ?? '19092';
  env.KAFKA_CONTROLLER_PORT = env.KAFKA_CONTROLLER_PORT ?? '19093';
  env.KAFKA_STATE_DIR = env.KAFKA_STATE_DIR ?? join(root, '.cache', 'kafka-test');
  env.KAFKA_BROKERS = startLocal('kafka.sh', 'KAFKA_BROKERS');
  startedKafka = true;
}

// A real registry for the BuildKit fake to push images to, when Debian's docker-registry is installed (CI installs it).
let startedRegistry = false;
if (!env.TEST_REGISTRY_URL && spawnSync('sh', ['-c', 'command -v docker-registry'], { stdio: 'ignore' }).status === 0) {
  env.REGISTRY_PORT = env.REGISTRY_PORT ?? '15000';
  env.REGISTRY_STATE_DIR = env.REGISTRY_STATE_DIR ?? join(root, '.cache', 'registry-test');
  env.TEST_REGISTRY_URL = startLocal('registry.sh', 'REGISTRY_URL');
  startedRegistry = true;
}

mkdirSync(join(root, '.cache'), { recursive: true });
const results = join(root, '.cache', 'jest-results.json');
rmSync(results, { force: true });
const jest = spawnSync(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--disable-warning=ExperimentalWarning',
    'node_modules/jest/bin/jest.js',
    '--json',
    `--outputFile=${results}`,
    ...process.argv.slice(2),
  ],
  { cwd: root, env, stdio: 'inherit' },
);

if (startedKafka) spawnSync('bash', [join(root, 'deploy/local/kafka.sh'), 'stop'], { cwd: root, env, stdio: 'inherit' });
if (startedRegistry) spawnSync('bash', [join(root, 'deploy/local/registry.sh'), 'stop'], { cwd: root, env, stdio: 'inherit' });
// The closing line CI tools read, in the plain form any of them understands. It counts files as well as tests: a
// file that fails to load, or whose afterAll throws, fails no test but fails the run.
let failed = jest.status !== 0;
if (existsSync(results)) {
  const {
    numPassedTests,
    numFailedTests,
    numPendingTests,
    numFailedTestSuites,
    numRuntimeErrorTestSuites,
    numTotalTestSuites,
    testResults,
  } = JSON.parse(readFileSync(results, 'utf8'));
  const brokenFiles = testResults.filter(
    (file) => file.status === 'failed' && file.assertionResults.every((test) => test.status !== 'failed'),
  );
  for (const file of brokenFiles) {
    console.log(
      `file failed outside its tests: ${relative(root, file.name)}\n${(file.failureMessage ?? file.message ?? 'no message').trim()}\n`,
    );
  }
  console.log(
    `tests: ${numPassedTests} passed, ${numFailedTests} failed${numPendingTests ? `, ${numPendingTests} skipped` : ''}; ` +
      `files: ${numTotalTestSuites - numFailedTestSuites} passed, ${numFailedTestSuites} failed${numRuntimeErrorTestSuites ? ` (${numRuntimeErrorTestSuites} could not run)` : ''}`,
  );
  failed ||= numFailedTests > 0 || numFailedTestSuites > 0 || numRuntimeErrorTestSuites > 0;
} else {
  console.log('tests: Jest wrote no results: the run failed before any file ran');
  failed = true;
}
process.exit(failed ? jest.status || 1 : 0);
