import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { bareEnv, main, root, start, stop } from './support/spawn-api.js';

describe('npm start', () => {
  const dataDir = join(tmpdir(), `faasline-start-${randomUUID()}`);
  let database: TestDatabase | undefined;
  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
  });

  it('boots on embedded defaults, answers health checks and stops cleanly on Ctrl-C', async () => {
    const { child, url, output } = await start({ ...bareEnv(), DATA_DIR: dataDir });
    try {
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', log: 'ok' } });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^faasline_events_head_position 0$/m);
      expect(output()).toContain(`embedded PostgreSQL in ${dataDir}`);
      expect(output()).toContain('event log: embedded');
      // With bubblewrap installed (CI installs it), functions and builds are contained, and it says how.
      expect(output()).toMatch(
        /sandbox: on \(bubblewrap, (uids \d+–\d+|uid \d+ \(faasline's own, not root\)), (cgroup v[12] \(memory, pids, cpu\)|rlimits)/,
      );
    } finally {
      expect(await stop(child)).toBe(0);
    }
    // Nothing left running: the embedded server's postmaster.pid is removed by a clean stop.
    expect(spawnSync('test', ['-e', join(dataDir, 'postgres', 'postmaster.pid')]).status).not.toBe(0);
  }, 90_000);

  it('starts again on the same data folder after being SIGKILLed', async () => {
    const first = await start({ ...bareEnv(), DATA_DIR: dataDir });
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const second = await start({ ...bareEnv(), DATA_DIR: dataDir });
    try {
      expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
    } finally {
      expect(await stop(second.child)).toBe(0);
    }
  }, 120_000);

  it('uses the Postgres and Kafka it is given', async () => {
    database = await provisionTestDatabase();
    const { child, url, output } = await start({
      ...bareEnv(),
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
      KAFKA_TOPIC: `faasline.start.${randomUUID()}`,
    });
    try {
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect(output()).toContain('storage: PostgreSQL at DATABASE_URL');
      expect(output()).toContain('event log: Kafka topic faasline.start.');
    } finally {
      expect(await stop(child)).toBe(0);
    }
  }, 90_000);

  it.each([
    ['PORT', 'http'],
    ['KAFKA_BROKERS', 'nohostport'],
    ['DATABASE_URL', 'mysql://db/x'],
    ['ENABLE_DOCKERFILE_LANG', 'perhaps'],
  ])('stops with one line naming %s when it is bad', (variable, value) => {
    const result = spawnSync(process.execPath, [main], {
      cwd: root,
      env: { ...bareEnv(), DATA_DIR: dataDir, [variable]: value },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^faasline: configuration error: ${variable}: `));
  });
});
