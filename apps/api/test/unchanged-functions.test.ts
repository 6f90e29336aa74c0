import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { gitFixtures, type GitFixtures, type RepoFiles } from '../../../test/support/git-repos.js';
import { deliverPush } from '../../../test/support/github-payloads.js';
import { start, stop, gatewayOf, pushEnv } from './support/spawn-api.js';

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
  let database: TestDatabase;
  let git: GitFixtures;
  let dataDir: string;
  let api: Awaited<ReturnType<typeof start>>;
  let gatewayUrl: string;

  beforeAll(async () => {
    database = await provisionTestDatabase();
    git = await gitFixtures();
    dataDir = mkdtempSync(join(tmpdir(), 'faasline-unchanged-'));
    api = await start({ ...pushEnv(database, dataDir, git, secret), GATEWAY_PORT: '0', ADMIN_TOKEN: ADMIN });
    gatewayUrl = await gatewayOf(api);
  });

  afterAll(async () => {
    if (api) await stop(api.child);
    await git?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const push = async (files: RepoFiles) => {
    const sha = git.commit('alexellis', 'stack', files);
    const { status } = await deliverPush(api.url, secret, {
      owner: 'alexellis',
      repo: 'stack',
      sha,
      cloneUrl: git.cloneUrl('alexellis', 'stack'),
    });
    expect(status).toBe(202);
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
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ sha: string; already: boolean }>(
        `SELECT data->>'sha' AS sha, coalesce((data->>'alreadyRunning')::boolean, false) AS already FROM events
          WHERE stream_id = $1 AND type = 'FunctionDeployed' ORDER BY global_position`,
        [`function-alexellis-${fn}`],
      );
      return rows.map((row) => [row.sha.slice(0, 7), row.already]);
    } finally {
      await client.end();
    }
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
