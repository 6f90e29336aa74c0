import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { DataSource } from 'typeorm';
import { openDataSource, shrinkwrap, TemplateRegistry } from '#infra';
import { eventually, logModes } from '../../../libs/infra/test/support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { gitFixtures, writeTemplates, type GitFixtures } from '../../../test/support/git-repos.js';
import { pushPayload, signPayload } from '../../../test/support/github-payloads.js';
import { bareEnv, start } from './support/spawn-api.js';

const secret = 'e2e-webhook-secret';
const stackFile = `version: 1.0
provider:
  name: openfaas
functions:
  hello:
    lang: node20
    handler: ./hello
    image: alexellis2/hello:0.1
    environment:
      greeting: hi
  bye:
    lang: node20
    handler: ./bye
    image: bye
`;
const repoFiles = {
  'stack.yml': stackFile,
  'hello/handler.js': 'module.exports = async () => "hello";\n',
  'bye/handler.js': 'module.exports = async () => "bye";\n',
};

type StoredEvent = { type: string; data: Record<string, unknown>; correlation_id: string; causation_id: string };

describe.each(logModes)('a real push, end to end to SourceFetched ($name)', (mode) => {
  let database: TestDatabase;
  let db: DataSource;
  let git: GitFixtures;
  let dataDir: string;
  let templatesDir: string;
  let gate: { reached: () => void; release: Promise<void> } | null = null;
  const children: ChildProcess[] = [];
  const kafka = mode.kafka();

  beforeAll(async () => {
    database = await provisionTestDatabase();
    db = await openDataSource(database.url);
    git = await gitFixtures({
      beforeUploadPack: async () => {
        const held = gate;
        if (!held) return;
        held.reached();
        await held.release;
      },
    });
    dataDir = mkdtempSync(join(tmpdir(), 'faasline-e2e-'));
    templatesDir = writeTemplates(['node20']);
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await git.close();
    await db.destroy();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(templatesDir, { recursive: true, force: true });
  });

  const startApi = async () => {
    const api = await start({
      ...bareEnv(),
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      GITHUB_WEBHOOK_SECRET: secret,
      GIT_ALLOWED_HOSTS: new URL(git.server.url).host,
      TEMPLATES_DIR: templatesDir,
      REGISTRY: 'registry:5000',
      ...(kafka ? { KAFKA_BROKERS: kafka.brokers.join(','), KAFKA_TOPIC: kafka.topic } : {}),
    });
    children.push(api.child);
    return api;
  };

  const deliver = (url: string, body: string, deliveryId: string, signature = signPayload(body, secret)) =>
    fetch(`${url}/webhooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': deliveryId,
        'x-hub-signature-256': signature,
      },
      body,
    });

  // Ingress and source only: the later pipeline steps (build, deploy, statuses) have their own tests.
  const events = async (deliveryId: string): Promise<StoredEvent[]> =>
    db.query(
      `SELECT type, data, correlation_id, causation_id FROM events
        WHERE correlation_id = $1 AND type IN ('PushReceived', 'PushIgnored', 'SourceFetched', 'SourceRejected') ORDER BY global_position`,
      [deliveryId],
    );

  it('records the push once, fetches the pushed SHA and packages each function with its digest', async () => {
    const api = await startApi();
    try {
      const sha = git.commit('alexellis', 'fns', repoFiles);
      const body = pushPayload({ owner: 'alexellis', repo: 'fns', sha, cloneUrl: git.cloneUrl('alexellis', 'fns') });
      const deliveryId = randomUUID();

      const forged = await deliver(api.url, body, randomUUID(), signPayload(body, 'wrong'));
      expect(forged.status).toBe(401);
      expect((await deliver(api.url, body, deliveryId)).status).toBe(202);
      expect((await deliver(api.url, body, deliveryId)).status).toBe(200);

      await eventually(async () => (await events(deliveryId)).some((e) => e.type === 'SourceFetched'), 60_000, 'SourceFetched');
      const recorded = await events(deliveryId);
      expect(recorded.map((e) => e.type)).toEqual(['PushReceived', 'SourceFetched']);
      const fetched = recorded[1]!.data as {
        sha: string;
        functions: { name: string; image: string; contextDigest: string; environment: object }[];
      };
      expect(fetched.sha).toBe(sha);
      expect(fetched.functions.map((f) => f.name)).toEqual(['alexellis-hello', 'alexellis-bye']);
      expect(fetched.functions[0]!.image).toBe(`registry:5000/alexellis/fns-hello:0.1-master-${sha.slice(0, 7)}`);
      expect(fetched.functions[0]!.environment).toEqual({ greeting: 'hi' });

      // The digest is the one the same template and handler give when packaged here, from the working tree.
      const template = (
        await new TemplateRegistry({ roots: [templatesDir], cacheDir: dataDir, gitAllowedHosts: [], fetchTimeoutMs: 1000 }).builtins()
      ).get('node20')!;
      for (const [index, handler] of ['hello', 'bye'].entries()) {
        const expected = await shrinkwrap({
          repoDir: join(git.root, 'alexellis', 'fns'),
          handler,
          template,
          copy: [],
          buildArgs: {},
          limits: { maxBytes: 1e8, maxFiles: 1e5 },
        });
        expect(fetched.functions[index]!.contextDigest).toBe(expected.digest);
        const [stored] = await db.query(`SELECT archive FROM build_contexts WHERE digest = $1`, [expected.digest]);
        expect(Buffer.compare(stored.archive, expected.archive)).toBe(0);
      }
      expect(await db.query(`SELECT count(*)::int AS n FROM events WHERE correlation_id <> $1`, [deliveryId])).toEqual([{ n: 0 }]);
    } finally {
      api.child.kill('SIGKILL');
    }
  });

  it('ends in exactly one SourceFetched when the process is killed during the fetch and restarted', async () => {
    let reached!: () => void;
    const fetchStarted = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    gate = { reached, release: new Promise<void>((resolve) => (release = resolve)) };

    const first = await startApi();
    const sha = git.commit('alexellis', 'fns', { ...repoFiles, 'hello/handler.js': 'module.exports = async () => "hello again";\n' });
    const deliveryId = randomUUID();
    expect(
      (
        await deliver(
          first.url,
          pushPayload({ owner: 'alexellis', repo: 'fns', sha, cloneUrl: git.cloneUrl('alexellis', 'fns') }),
          deliveryId,
        )
      ).status,
    ).toBe(202);
    await fetchStarted;
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    expect((await events(deliveryId)).map((e) => e.type)).toEqual(['PushReceived']);

    gate = null;
    release();
    const second = await startApi();
    try {
      await eventually(
        async () => (await events(deliveryId)).some((e) => e.type === 'SourceFetched'),
        60_000,
        'SourceFetched after restart',
      );
      // Counted once the fetch job is done: no run of it is left to record a duplicate. Later steps of the delivery
      // carry the same correlation id: only the fetch job was interrupted.
      const job = async () =>
        (
          await db.query(
            `SELECT attempts, done_at IS NOT NULL AS done FROM pipeline_jobs WHERE step = 'fetch-source' AND payload->'cause'->>'correlationId' = $1`,
            [deliveryId],
          )
        )[0];
      await eventually(async () => (await job())?.done === true, 60_000, 'the fetch job to be done');
      expect((await events(deliveryId)).map((e) => e.type)).toEqual(['PushReceived', 'SourceFetched']);
      expect((await job()).attempts).toBeGreaterThanOrEqual(2);
    } finally {
      second.child.kill('SIGKILL');
    }
  });
});
