import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { logModes, openTestBackbone, type TestBackbone } from '../../../libs/infra/test/support/backbones.js';
import { startProjector } from './support/start-projector.js';
import { freePort } from '../../../test/support/free-port.js';

describe('the projector process with HEALTH_PORT', () => {
  let backbone: TestBackbone;
  let projector: ChildProcess | undefined;
  let base: string;

  beforeAll(async () => {
    backbone = await openTestBackbone(logModes[0]!);
    const port = await freePort();
    projector = await startProjector(backbone, { HEALTH_PORT: String(port), HOST: '127.0.0.1' });
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    projector?.kill('SIGKILL');
    await backbone?.close();
  });

  it('answers /healthz and /readyz with the storage check, and nothing of the api', async () => {
    const healthz = await fetch(`${base}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ status: 'ok' });
    const readyz = await fetch(`${base}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toMatchObject({ status: 'ok', checks: { database: 'ok', log: 'ok' } });
    expect((await fetch(`${base}/api/v1/functions`)).status).toBe(404);
  });
});
