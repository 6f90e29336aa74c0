import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig, openBackbone, silentLogger, type Backbone } from '#infra';
import { createApi } from '../../src/api-app.js';
import type { ApiOptions } from '../../src/app.module.js';
import { provisionTestDatabase, type TestDatabase } from '../../../../libs/infra/test/support/test-database.js';

export type InProcessApi = Readonly<{
  database: TestDatabase;
  backbone: Backbone;
  app: NestFastifyApplication;
  url: string;
  close: () => Promise<void>;
}>;

/** The api in this process on a database of its own, configured by `env` like `npm start` is; no projector, no pipeline. */
export async function startInProcessApi(
  options: Pick<ApiOptions, 'webhookSecret'> & Partial<ApiOptions>,
  env: Readonly<Record<string, string>> = {},
): Promise<InProcessApi> {
  const database = await provisionTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'faasline-api-'));
  const config = loadConfig({ DATABASE_URL: database.url, DATA_DIR: dataDir, ...env });
  const backbone = await openBackbone(config, silentLogger);
  const app = await createApi(backbone, config, silentLogger, {
    withProjector: false,
    withPipeline: false,
    adminToken: 'admin',
    gatewayPassword: 'pw',
    ...options,
  });
  await app.listen(0, '127.0.0.1');
  return {
    database,
    backbone,
    app,
    url: await app.getUrl(),
    close: async () => {
      await app.close();
      await backbone.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
