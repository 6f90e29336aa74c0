import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import type { GitFixtures, RepoFiles } from '../../../test/support/git-repos.js';
import { startEmbeddedWorld, type EmbeddedWorld } from './support/embedded-world.js';
import { deliverCommit, stop } from './support/spawn-api.js';

const secret = 'rollback-embedded-secret';
const ADMIN = 'rollback-embedded-admin';
const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
const FN = 'alexellis-hello';

const repo = (text: string): RepoFiles => ({
  'stack.yml': 'provider:\n  name: openfaas\nfunctions:\n  hello:\n    lang: node20\n    handler: ./hello\n    image: hello:0.1\n',
  'hello/handler.js': `module.exports = async () => ${JSON.stringify(text)};\n`,
});

describe('rollback and delete on the embedded gateway: what the function answers', () => {
  let world: EmbeddedWorld;
  let git: GitFixtures;
  let api: EmbeddedWorld['api'];
  let gatewayUrl: string;

  beforeAll(async () => {
    world = await startEmbeddedWorld(secret, 'faasline-rollback-', { ADMIN_TOKEN: ADMIN });
    ({ git, api, gatewayUrl } = world);
  });

  afterAll(async () => {
    if (api) await stop(api.child);
    await world?.close();
  });

  const push = async (files: RepoFiles) => {
    const sha = git.commit('alexellis', 'box', files);
    await deliverCommit(api.url, secret, git, { owner: 'alexellis', repo: 'box', sha });
    return sha;
  };
  const call = async () => {
    const response = await fetch(`${gatewayUrl}/function/${FN}`);
    return { status: response.status, text: await response.text() };
  };
  const answers = (text: string) => eventually(async () => (await call()).text === text, 90_000, `${FN} answering ${text}`);

  it('answers v1 again after a rollback from v2, v3 after the next push, 404 once deleted, and again after a push', async () => {
    const v1 = await push(repo('one'));
    await answers('one');
    const v2 = await push(repo('two'));
    await answers('two');
    // The gateway answers before the deploy is recorded: the rollback is decided on what is recorded.
    await eventually(
      async () => ((await (await fetch(`${api.url}/api/v1/functions/${FN}`)).json()) as { sha: string }).sha === v2,
      30_000,
      'v2 recorded as deployed',
    );

    const rollback = await fetch(`${api.url}/api/v1/functions/${FN}/rollback`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ sha: v1, reason: 'two is wrong' }),
    });
    expect([rollback.status, ((await rollback.json()) as { sha: string }).sha]).toEqual([202, v1]);
    await answers('one');

    await push(repo('three'));
    await answers('three');

    const deleted = await fetch(`${api.url}/api/v1/functions/${FN}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(deleted.status).toBe(202);
    await eventually(async () => (await call()).status === 404, 30_000, `${FN} gone from the gateway`);

    // The same stack again: its image is reused, and it answers again.
    await push(repo('three'));
    await answers('three');
  });
});
