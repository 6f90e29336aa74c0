import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import type { GitFixtures, RepoFiles } from '../../../test/support/git-repos.js';
import { startEmbeddedWorld, type EmbeddedWorld } from './support/embedded-world.js';
import { deliverCommit } from './support/spawn-api.js';

const secret = 'fidelity-webhook-secret';
type Outcome = { type: string; name: string; reason: string | null };

describe('functions as OpenFaaS runs them, on faasline with the embedded gateway', () => {
  let world: EmbeddedWorld;
  let db: DataSource;
  let git: GitFixtures;
  let api: EmbeddedWorld['api'];
  let gatewayUrl: string;

  beforeAll(async () => {
    world = await startEmbeddedWorld(secret, 'faasline-fidelity-');
    ({ db, git, api, gatewayUrl } = world);
  });

  afterAll(async () => {
    await world?.close();
  });

  /** Pushes `files` as alexellis/<repo> and waits until its `count` functions deployed or failed. */
  const push = async (repo: string, files: RepoFiles, count: number) => {
    const sha = git.commit('alexellis', repo, files);
    const deliveryId = await deliverCommit(api.url, secret, git, { owner: 'alexellis', repo, sha });
    const outcomes = async () =>
      (await db.query(
        `SELECT type, data->>'name' AS name, data->>'reason' AS reason FROM events
         WHERE correlation_id = $1 AND type IN ('FunctionDeployed', 'DeployFailed', 'BuildFailed') ORDER BY global_position`,
        [deliveryId],
      )) as Outcome[];
    await eventually(async () => (await outcomes()).length === count, 120_000, `${count} function(s) to settle`);
    return { sha, deliveryId, outcomes: await outcomes() };
  };
  const call = async (fn: string, body?: string) => {
    const response = await fetch(`${gatewayUrl}/function/alexellis-${fn}`, body === undefined ? {} : { method: 'POST', body });
    return `${response.status} ${await response.text()}`;
  };

  it('answers with what classic python3 and node handlers print; exec_timeout: 2s cuts a slow call and a quick one answers', async () => {
    const { outcomes } = await push(
      'classic',
      {
        'stack.yml': [
          'provider:\n  name: openfaas\nfunctions:',
          '  printer:\n    lang: python3\n    handler: ./printer\n    image: printer\n    environment:\n      exec_timeout: 2s',
          '  writer:\n    lang: node\n    handler: ./writer\n    image: writer',
          '',
        ].join('\n'),
        'printer/handler.py':
          'import time\n\ndef handle(req):\n    if req == "slow":\n        time.sleep(30)\n    print("Hello, " + (req or "world") + "!")\n',
        'printer/requirements.txt': '',
        'writer/handler.js': "module.exports = (context, callback) => { console.log('Hi ' + context); callback(undefined, undefined) }\n",
      },
      2,
    );
    expect(outcomes.map((outcome) => outcome.type)).toEqual(['FunctionDeployed', 'FunctionDeployed']);
    expect(await call('printer', 'faasline')).toBe('200 Hello, faasline!\n');
    expect(await call('writer', 'there')).toBe('200 Hi there\n');
    expect(await call('printer', 'slow')).toBe('408 Killed process.\n');
    expect(await call('printer', 'quick')).toBe('200 Hello, quick!\n');
  }, 180_000);

  it('fails the deploy of a handler that throws at load time at once, with its error in the reason and the status', async () => {
    const { deliveryId, outcomes } = await push(
      'crashy',
      {
        'stack.yml': 'provider:\n  name: openfaas\nfunctions:\n  crashy:\n    lang: node20\n    handler: ./crashy\n    image: crashy\n',
        'crashy/handler.js': "throw new Error('STRIPE_KEY is not set')\n",
      },
      1,
    );
    const reason = 'crashed at start (exit code 1): Error: STRIPE_KEY is not set';
    expect(outcomes).toEqual([{ type: 'DeployFailed', name: 'alexellis-crashy', reason }]);
    await eventually(
      async () =>
        (
          await db.query(
            `SELECT 1 FROM events WHERE correlation_id = $1 AND type = 'CommitStatusReported' AND data->>'state' = 'failure' AND data->>'context' = 'alexellis-crashy'`,
            [deliveryId],
          )
        ).length > 0,
      10_000,
      'the failure status',
    );
    const [failure] = (await db.query(
      `SELECT data FROM events WHERE correlation_id = $1 AND type = 'CommitStatusReported' AND data->>'state' = 'failure' AND data->>'context' = 'alexellis-crashy'`,
      [deliveryId],
    )) as { data: { description: string } }[];
    expect(failure!.data.description).toBe(`deploy failed: ${reason}`);
    // One attempt at the gateway: a crash at start is not retried.
    const jobs = (await db.query(`SELECT attempts FROM pipeline_jobs WHERE step = 'deploy' AND payload->'command'->'spec'->>'name' = $1`, [
      'alexellis-crashy',
    ])) as { attempts: number }[];
    expect(jobs).toEqual([{ attempts: 1 }]);
  }, 180_000);
});
