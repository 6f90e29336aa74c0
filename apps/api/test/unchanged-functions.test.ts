import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import type { GitFixtures, RepoFiles } from '../../../test/support/git-repos.js';
import { startEmbeddedWorld, type EmbeddedWorld } from './support/embedded-world.js';
import { deliverCommit, stop } from './support/spawn-api.js';

const secret = 'unchanged-functions-secret';
const ADMIN = 'unchanged-functions-admin';

/** Each function answers its text and a number drawn once per process: a restart draws another. */
const handler = (text: string) => `const started = Math.random();\nmodule.exports = async () => ${JSON.stringify(text)} + ' ' + started;\n`;
const stack = (environment = 'v1') =>
  'provider:\n  name: openfaas\nfunctions:\n' +
  '  edited:\n    lang: node20\n    handler: ./edited\n    image: edited:0.1\n' +
  `  kept:\n    lang: node20\n    handler: ./kept\n    image: kept:0.1\n    environment:\n      release: ${environment}\n`;
const repo = (edited: string, environment?: string): RepoFiles => ({
  'stack.yml': stack(environment),
  'edited/handler.js': handler(edited),
  'kept/handler.js': handler('kept'),
});

describe('a push that changes one function of a stack leaves the others running untouched', () => {
  let world: EmbeddedWorld;
  let git: GitFixtures;
  let api: EmbeddedWorld['api'];
  let gatewayUrl: string;

  beforeAll(async () => {
    world = await startEmbeddedWorld(secret, 'faasline-unchanged-', { ADMIN_TOKEN: ADMIN });
    ({ git, api, gatewayUrl } = world);
  });

  afterAll(async () => {
    if (api) await stop(api.child);
    await world?.close();
  });

  const push = async (files: RepoFiles) => {
    const sha = git.commit('alexellis', 'stack', files);
    await deliverCommit(api.url, secret, git, { owner: 'alexellis', repo: 'stack', sha });
    return sha;
  };
  const answer = async (fn: string) => (await (await fetch(`${gatewayUrl}/function/alexellis-${fn}`)).text()).split(' ');
  const deployedAt = (fn: string, sha: string) =>
    eventually(
      async () => {
        const found = (await (await fetch(`${api.url}/api/v1/functions/alexellis-${fn}`)).json()) as { sha?: string; status?: string };
        return found.sha === sha && found.status === 'ready';
      },
      90_000,
      `alexellis-${fn} deployed at ${sha.slice(0, 7)}`,
    );
  const deploys = async (fn: string) => {
    const rows: { sha: string; already: boolean }[] = await world.db.query(
      `SELECT data->>'sha' AS sha, coalesce((data->>'alreadyRunning')::boolean, false) AS already FROM events
        WHERE stream_id = $1 AND type = 'FunctionDeployed' ORDER BY global_position`,
      [`function-alexellis-${fn}`],
    );
    return rows.map((row) => [row.sha.slice(0, 7), row.already]);
  };

  it('records the new commit for the unchanged function without restarting it, and deploys it again once its deployment changes', async () => {
    const v1 = await push(repo('one'));
    await deployedAt('edited', v1);
    await deployedAt('kept', v1);
    const first = await answer('kept');
    expect(first[0]).toBe('kept');
    const keptProcess = first[1];

    const v2 = await push(repo('two'));
    await deployedAt('edited', v2);
    await deployedAt('kept', v2);
    expect((await answer('edited'))[0]).toBe('two');
    expect(await answer('kept')).toEqual(['kept', keptProcess]);
    expect(await deploys('kept')).toEqual([
      [v1.slice(0, 7), false],
      [v2.slice(0, 7), true],
    ]);
    expect(await deploys('edited')).toEqual([
      [v1.slice(0, 7), false],
      [v2.slice(0, 7), false],
    ]);

    // Provenance answers for the commit that carries it, back to that push.
    const provenance = await fetch(`${api.url}/api/v1/functions/alexellis-kept/provenance`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(provenance.status).toBe(200);
    const { sha, chain } = (await provenance.json()) as { sha: string; chain: { type: string; data: { sha?: string } }[] };
    expect(sha).toBe(v2);
    expect(chain[0]).toMatchObject({ type: 'FunctionDeployed', data: { sha: v2, alreadyRunning: true } });
    expect(chain.at(-1)).toMatchObject({ type: 'PushReceived', data: { sha: v2 } });

    // Its image is reused, but its environment changed: that is a new deployment, and the function restarts.
    const v3 = await push(repo('two', 'v2'));
    await deployedAt('kept', v3);
    const [text, restarted] = await answer('kept');
    expect([text, restarted === keptProcess]).toEqual(['kept', false]);
    expect((await deploys('kept')).at(-1)).toEqual([v3.slice(0, 7), false]);
    expect((await deploys('edited')).at(-1)).toEqual([v3.slice(0, 7), true]);
  });
});
