import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { openDataSource, seal, sealKeyFromPrivate, withSealedSecret, type SealKey } from '#infra';
import { eventually, logModes } from '../../../libs/infra/test/support/backbones.js';
import type { RepoFiles } from '../../../test/support/git-repos.js';
import { installationOf, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';
import { deliverCommit } from './support/spawn-api.js';

const webhookSecret = 'sealed-pipeline-secret';
const SEAL_PRIVATE_KEY = Buffer.alloc(32, 11).toString('base64');
const stack = (fn: string, secret: string) =>
  `provider:\n  name: openfaas\nfunctions:\n  ${fn}:\n    lang: node20\n    handler: ./${fn}\n    image: ${fn}:0.1\n    secrets:\n      - ${secret}\n`;

describe.each(logModes)("a push's sealed secrets on an OpenFaaS gateway ($name)", (mode) => {
  let world: PipelineWorld;
  let db: DataSource;
  let key: SealKey;
  const kafka = mode.kafka();

  beforeAll(async () => {
    world = await startPipelineWorld(webhookSecret, kafka, { SEAL_PRIVATE_KEY });
    db = await openDataSource(world.database.url);
    key = await sealKeyFromPrivate(SEAL_PRIVATE_KEY);
  });
  afterAll(async () => {
    await db?.destroy();
    await world?.close();
  });

  const push = async (owner: string, fn: string, secret: string, value: string) => {
    const files: RepoFiles = {
      'stack.yml': stack(fn, secret),
      'secrets.yml': withSealedSecret(null, key, secret, await seal(value, key)),
      [`${fn}/handler.js`]: 'module.exports = async () => "ok";\n',
    };
    const sha = world.git.commit(owner, 'fns', files);
    const deliveryId = await deliverCommit(world.api.url, webhookSecret, world.git, {
      owner,
      repo: 'fns',
      sha,
      installationId: installationOf(owner),
    });
    const stackStatus = () => world.github.statuses.filter((s) => s.sha === sha && s.context === 'stack-deploy').at(-1);
    await eventually(async () => ['success', 'failure'].includes(stackStatus()?.state ?? ''), 60_000, `the stack status of ${owner}`);
    return { deliveryId, status: stackStatus()! };
  };

  it('creates the owner-prefixed secret before the deploy that mounts it', async () => {
    const from = world.gateway.calls.length;
    const { status } = await push('victim', 'x-api', 'x-db', 'victim-db-password');
    expect(status.state).toBe('success');
    expect(world.gateway.secretValues.get('victim-x-db')?.toString()).toBe('victim-db-password');
    const calls = world.gateway.calls.slice(from).map((call) => `${call.method} ${call.path}`);
    const secretCall = calls.findIndex((call) => call.endsWith('/system/secrets') && /^(PUT|POST)/.test(call));
    expect(secretCall).toBeGreaterThanOrEqual(0);
    expect(secretCall).toBeLessThan(calls.findIndex((call) => /^(PUT|POST) \/system\/functions/.test(call)));
    expect(world.gateway.functions.get('victim-x-api')).toMatchObject({ secrets: ['victim-x-db'] });
  });

  it("refuses another owner's push a secret whose prefixed name is taken, deploying nothing of it", async () => {
    const { deliveryId, status } = await push('victim-x', 'api', 'db', 'attacker-value');
    expect(status.state).toBe('failure');
    expect(status.description).toBe('secret name victim-x-db is held by GitHub owner victim: choose another name');
    expect(world.gateway.secretValues.get('victim-x-db')?.toString()).toBe('victim-db-password');
    expect(world.gateway.functions.has('victim-x-api')).toBe(true);
    expect(
      await db.query(`SELECT type FROM events WHERE correlation_id = $1 AND type IN ('BuildStarted', 'FunctionDeployed')`, [deliveryId]),
    ).toEqual([]);
    const everything =
      JSON.stringify(await db.query(`SELECT * FROM events`)) + JSON.stringify(await db.query(`SELECT * FROM pipeline_jobs`));
    for (const value of ['victim-db-password', 'attacker-value']) expect(everything).not.toContain(value);
  });
});
