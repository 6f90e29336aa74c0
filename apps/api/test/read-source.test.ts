import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { list } from 'tar';
import { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import type { PushReceived } from '#domain';
import {
  anonymousCredentials,
  loadConfig,
  openDataSource,
  PostgresContextStore,
  PostgresSealedSecretStore,
  staticTokenCredentials,
  TemplateRegistry,
  type GitCredentials,
} from '#infra';
import { readSource, type SourceOutcome, type SourceReader } from '../src/pipeline/fetch-source/read-source.js';
import { gitFixtures, testTemplateFiles, writeTemplates, type GitFixtures } from '../../../test/support/git-repos.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { corpus } from './stack-corpus.js';

let git: GitFixtures;
let privateGit: GitFixtures;
let database: TestDatabase;
let db: DataSource;
let dataDir: string;
let templatesDir: string;
let templateRepoUrl: string;

beforeAll(async () => {
  git = await gitFixtures();
  privateGit = await gitFixtures({ token: 'ghs_private-token' });
  database = await provisionTestDatabase();
  db = await openDataSource(database.url);
  dataDir = mkdtempSync(join(tmpdir(), 'faasline-source-'));
  templatesDir = writeTemplates(['node20']);
  const templateFiles = Object.fromEntries(
    Object.entries(testTemplateFiles).map(([file, content]) => [
      `template/golang-middleware/${file}`,
      content.replace('node20', 'golang-middleware'),
    ]),
  );
  git.commit('openfaas', 'templates', templateFiles);
  templateRepoUrl = git.cloneUrl('openfaas', 'templates');
});

afterAll(async () => {
  await git.close();
  await privateGit.close();
  await db.destroy();
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(templatesDir, { recursive: true, force: true });
});

function reader(
  overrides: Partial<{
    enableDockerfileLang: boolean;
    maxContextBytes: number;
    maxFunctionsPerRepo: number;
    maxFunctionMemory: string;
    maxFunctionCpu: string;
  }> = {},
  credentials: GitCredentials = anonymousCredentials,
): SourceReader {
  const base = loadConfig({
    GIT_ALLOWED_HOSTS: new URL(git.server.url).host + ',' + new URL(privateGit.server.url).host,
    REGISTRY: 'registry:5000',
    DATA_DIR: dataDir,
  });
  const config = {
    ...base,
    enableDockerfileLang: overrides.enableDockerfileLang ?? false,
    maxFunctionsPerRepo: overrides.maxFunctionsPerRepo ?? 20,
    maxFunctionMemory: overrides.maxFunctionMemory ?? base.maxFunctionMemory,
    maxFunctionCpu: overrides.maxFunctionCpu ?? base.maxFunctionCpu,
    source: { ...base.source, maxContextBytes: overrides.maxContextBytes ?? base.source.maxContextBytes },
  };
  return readerOn(config, credentials);
}

/** A source reader with `config`: the test templates, and contexts and sealed secrets in the test database. */
const readerOn = (config: SourceReader['config'], credentials: GitCredentials): SourceReader => ({
  config,
  credentials,
  templates: new TemplateRegistry({
    roots: [templatesDir],
    cacheDir: join(dataDir, 'template-cache'),
    gitAllowedHosts: config.gitAllowedHosts,
    fetchTimeoutMs: 30_000,
  }),
  contexts: new PostgresContextStore(db),
  sealed: { keyId: '0123456789abcdef', store: new PostgresSealedSecretStore(db) },
});

function pushOf(
  fixtures: GitFixtures,
  owner: string,
  repo: string,
  sha: string,
  overrides: Partial<PushReceived['data']> = {},
): PushReceived['data'] {
  return {
    deliveryId: `d-${sha.slice(0, 8)}`,
    owner,
    ownerId: 1,
    repo,
    repositoryId: 1,
    private: false,
    ref: 'refs/heads/master',
    branch: 'master',
    before: '0'.repeat(40),
    sha,
    cloneUrl: fixtures.cloneUrl(owner, repo),
    installationId: null,
    pusher: owner,
    receivedAt: new Date().toISOString(),
    ...overrides,
  };
}

const fetched = (outcome: SourceOutcome) => {
  if (outcome.kind !== 'fetched') throw new Error(`expected the source to be fetched, got ${outcome.kind}: ${outcome.reason}`);
  return outcome.data;
};

describe('stack file corpus: every rule, valid and hostile', () => {
  const cases = corpus('TEMPLATE_REPO', 'https://evil.example.com/templates.git');
  it('holds at least 25 stack files', () => expect(cases.length).toBeGreaterThanOrEqual(25));

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const owner = testCase.owner ?? 'alexellis';
    const files = JSON.parse(JSON.stringify(testCase.files).replaceAll('TEMPLATE_REPO', templateRepoUrl));
    const repo = `corpus`;
    const sha = git.commit(owner, repo, files, testCase.name);
    const outcome = await readSource(reader(testCase.config), pushOf(git, owner, repo, sha));
    if (testCase.rejected) {
      expect(outcome.kind).toBe('rejected');
      expect(outcome.kind === 'rejected' && outcome.reason).toMatch(testCase.rejected);
      expect(outcome.kind === 'rejected' && outcome.reason.length).toBeLessThanOrEqual(140);
      return;
    }
    const source = fetched(outcome);
    expect(source.functions.map((f) => f.name)).toEqual(testCase.functions);
    const rejections = Object.fromEntries(source.rejected.map((r) => [r.function, r.reason]));
    expect(Object.keys(rejections).sort()).toEqual(Object.keys(testCase.functionRejections ?? {}).sort());
    for (const [key, pattern] of Object.entries(testCase.functionRejections ?? {})) {
      expect(rejections[key]).toMatch(pattern);
      expect(rejections[key]!.length).toBeLessThanOrEqual(140);
    }
    for (const spec of source.functions) {
      expect(spec.contextDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await reader().contexts.get(spec.contextDigest)).not.toBeNull();
    }
    testCase.check?.(source);
  });
});

describe('build contexts', () => {
  const handlers = {
    'stack.yml':
      'provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: node20\n    handler: ./fn1\n    image: fn1\n  fn2:\n    lang: node20\n    handler: ./fn2\n    image: fn2\n',
    'fn1/handler.js': 'module.exports = async () => "one";\n',
    'fn1/run.sh': { executable: '#!/bin/sh\necho run\n' },
    'fn2/handler.js': 'module.exports = async () => "two";\n',
  } as const;

  it('are byte-identical for identical inputs, in any repository and commit', async () => {
    const first = fetched(
      await readSource(reader(), pushOf(git, 'alexellis', 'contexts-a', git.commit('alexellis', 'contexts-a', handlers))),
    );
    const second = fetched(
      await readSource(
        reader(),
        pushOf(git, 'someone', 'contexts-b', git.commit('someone', 'contexts-b', { ...handlers, 'README.md': 'other repo\n' })),
      ),
    );
    expect(second.functions.map((f) => f.contextDigest)).toEqual(first.functions.map((f) => f.contextDigest));
    expect(second.functions[0]!.image).not.toEqual(first.functions[0]!.image);
  });

  it('change only for the function whose files changed', async () => {
    const before = fetched(
      await readSource(reader(), pushOf(git, 'alexellis', 'contexts-c', git.commit('alexellis', 'contexts-c', handlers))),
    );
    const after = fetched(
      await readSource(
        reader(),
        pushOf(
          git,
          'alexellis',
          'contexts-c',
          git.commit('alexellis', 'contexts-c', { ...handlers, 'fn2/handler.js': 'module.exports = async () => "TWO";\n' }),
        ),
      ),
    );
    expect(after.functions[0]!.contextDigest).toBe(before.functions[0]!.contextDigest);
    expect(after.functions[1]!.contextDigest).not.toBe(before.functions[1]!.contextDigest);
    expect(after.sha).not.toBe(before.sha);
  });

  it('use the Function Builder layout with fixed owners, times and modes', async () => {
    const source = fetched(
      await readSource(reader(), pushOf(git, 'alexellis', 'contexts-d', git.commit('alexellis', 'contexts-d', handlers))),
    );
    const archive = (await reader().contexts.get(source.functions[0]!.contextDigest))!;
    const entries: { path: string; mode: number; mtime: number; uid: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      Readable.from(archive)
        .pipe(
          list({
            onReadEntry: (entry) =>
              void entries.push({ path: entry.path, mode: entry.mode!, mtime: entry.mtime!.getTime(), uid: entry.uid! }),
          }),
        )
        .on('end', resolve)
        .on('error', reject);
    });
    expect(entries[0]!.path).toBe('com.openfaas.docker.config');
    expect(entries.map((e) => e.path)).toEqual(
      expect.arrayContaining([
        'context/',
        'context/Dockerfile',
        'context/template.yml',
        'context/function/handler.js',
        'context/function/run.sh',
      ]),
    );
    const paths = entries.slice(2).map((e) => e.path);
    expect(paths).toEqual([...paths].sort());
    expect(new Set(entries.map((e) => e.mtime))).toEqual(new Set([0]));
    expect(new Set(entries.map((e) => e.uid))).toEqual(new Set([0]));
    expect(entries.find((e) => e.path === 'context/function/run.sh')!.mode).toBe(0o755);
    expect(entries.find((e) => e.path === 'context/function/handler.js')!.mode).toBe(0o644);
  });
});

describe('fetching', () => {
  it('fetches a private repository with the installation token, sent as a header', async () => {
    const sha = privateGit.commit('alexellis', 'private-fns', {
      'stack.yml': 'provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: node20\n    handler: ./fn1\n    image: fn1\n',
      'fn1/handler.js': 'x',
    });
    const push = pushOf(privateGit, 'alexellis', 'private-fns', sha, { private: true, installationId: 7 });
    expect(fetched(await readSource(reader({}, staticTokenCredentials('ghs_private-token')), push)).functions).toHaveLength(1);
    const anonymous = await readSource(reader(), push);
    expect(anonymous).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(/private repository: configure GITHUB_TOKEN or a GitHub App/),
    });
    const wrong = await readSource(reader({}, staticTokenCredentials('ghs_wrong')), push);
    expect(wrong).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/not found or not readable/) });
    expect(JSON.stringify(wrong)).not.toContain('ghs_wrong');
  });

  it('refuses clone URLs outside GIT_ALLOWED_HOSTS without fetching', async () => {
    const outcome = await readSource(reader(), {
      ...pushOf(git, 'alexellis', 'x', 'a'.repeat(40)),
      cloneUrl: 'https://github.com/alexellis/x.git',
    });
    expect(outcome).toEqual({ kind: 'rejected', reason: 'clone URL host github.com is not in GIT_ALLOWED_HOSTS' });
  });

  it('names a commit the repository does not have', async () => {
    git.commit('alexellis', 'exists', { 'stack.yml': 'x' });
    const outcome = await readSource(reader(), pushOf(git, 'alexellis', 'exists', 'f'.repeat(40)));
    expect(outcome).toEqual({ kind: 'rejected', reason: 'commit fffffff is not in the repository' });
  });

  it('asks to retry when the git server cannot be reached', async () => {
    const base = reader();
    const unreachable = { ...base, config: { ...base.config, gitAllowedHosts: ['127.0.0.1:1'] } };
    const outcome = await readSource(unreachable, {
      ...pushOf(git, 'alexellis', 'x', 'a'.repeat(40)),
      cloneUrl: 'http://127.0.0.1:1/a/b.git',
    });
    expect(outcome).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/could not fetch the repository/) });
  });

  it('stops a fetch that takes longer than GIT_FETCH_TIMEOUT', async () => {
    let release!: () => void;
    const slow = await gitFixtures({ beforeUploadPack: () => new Promise<void>((resolve) => (release = resolve)) });
    try {
      const sha = slow.commit('alexellis', 'slow', { 'stack.yml': 'x' });
      const base = reader();
      const limited = {
        ...base,
        config: {
          ...base.config,
          gitAllowedHosts: [new URL(slow.server.url).host],
          source: { ...base.config.source, fetchTimeoutMs: 500 },
        },
      };
      expect(await readSource(limited, pushOf(slow, 'alexellis', 'slow', sha))).toEqual({
        kind: 'rejected',
        reason: 'fetching the repository took longer than 1 s',
      });
    } finally {
      release?.();
      await slow.close();
    }
  });

  it('asks to retry, recording nothing, when a shutdown interrupts the fetch', async () => {
    let release!: () => void;
    let reached!: () => void;
    const fetching = new Promise<void>((resolve) => (reached = resolve));
    const slow = await gitFixtures({
      beforeUploadPack: () => {
        reached();
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    try {
      const sha = slow.commit('alexellis', 'slow', { 'stack.yml': 'x' });
      const base = reader();
      const shutdown = new AbortController();
      const outcome = readSource(
        { ...base, config: { ...base.config, gitAllowedHosts: [new URL(slow.server.url).host] } },
        pushOf(slow, 'alexellis', 'slow', sha),
        shutdown.signal,
      );
      // The shutdown comes while the fetch is under way (held at the server), whatever this machine's speed.
      await fetching;
      shutdown.abort();
      expect(await outcome).toEqual({ kind: 'retry', reason: 'the fetch was interrupted by a shutdown' });
    } finally {
      release?.();
      await slow.close();
    }
  });

  it('stops at the repository limits before checking out', async () => {
    const sha = git.commit('alexellis', 'big', {
      'stack.yml': 'x',
      ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}.txt`, `${i}`])),
    });
    const base = reader();
    const limited = { ...base, config: { ...base.config, source: { ...base.config.source, maxRepoFiles: 10 } } };
    expect(await readSource(limited, pushOf(git, 'alexellis', 'big', sha))).toEqual({
      kind: 'rejected',
      reason: 'the repository has 31 files; the limit is 10',
    });
    const heavy = git.commit('alexellis', 'heavy', { 'stack.yml': 'x', 'blob.bin': 'x'.repeat(2 * 1024 * 1024) });
    const small = { ...base, config: { ...base.config, source: { ...base.config.source, maxRepoBytes: 1024 * 1024 } } };
    expect(await readSource(small, pushOf(git, 'alexellis', 'heavy', heavy))).toEqual({
      kind: 'rejected',
      reason: 'the repository holds 2.0 MB; the limit is 1.0 MB',
    });
  });
});

describe('the loopback allowance of one machine', () => {
  // `npm start` with nothing set: embedded storage, no GIT_ALLOWED_HOSTS. `faasline push` serves its repository on
  // 127.0.0.1, so that clone URL may be fetched; a template URL the stack file chooses may not, in any notation.
  const embedded = () => readerOn(loadConfig({ DATA_DIR: dataDir, REGISTRY: 'registry:5000' }), anonymousCredentials);
  const port = () => new URL(git.server.url).port;
  const withTemplate = (source: string) => ({
    'stack.yml': `provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: golang-middleware\n    handler: ./fn1\n    image: fn1\nconfiguration:\n  templates:\n    - name: golang-middleware\n      source: ${source}\n`,
    'fn1/handler.js': 'module.exports = async () => "one";\n',
  });

  it('fetches the push’s own loopback clone URL', async () => {
    const sha = git.commit('alexellis', 'local-push', {
      'stack.yml': 'provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: node20\n    handler: ./fn1\n    image: fn1\n',
      'fn1/handler.js': 'module.exports = async () => "one";\n',
    });
    expect(fetched(await readSource(embedded(), pushOf(git, 'alexellis', 'local-push', sha))).functions.map((f) => f.name)).toEqual([
      'alexellis-fn1',
    ]);
  });

  it.each(['127.0.0.1', '127.1', '0x7f000001', '2130706433', '0177.0.0.1', '[::ffff:127.0.0.1]', '127.0.0.1.'])(
    'refuses a stack file’s template source on loopback written as %s',
    async (host) => {
      const source = `http://${host}:${port()}/openfaas/templates.git`;
      const sha = git.commit('alexellis', 'local-template', withTemplate(source));
      const outcome = await readSource(embedded(), pushOf(git, 'alexellis', 'local-template', sha));
      expect(outcome).toEqual({
        kind: 'rejected',
        reason: `stack.yml: template golang-middleware: source host 127.0.0.1:${port()} is not in GIT_ALLOWED_HOSTS`,
      });
    },
  );

  it('fetches a loopback template source the operator named in GIT_ALLOWED_HOSTS', async () => {
    const sha = git.commit('alexellis', 'local-template', withTemplate(`http://127.1:${port()}/openfaas/templates.git`));
    const named = reader();
    expect(named.config.gitAllowedHosts).toContain(new URL(git.server.url).host);
    expect(fetched(await readSource(named, pushOf(git, 'alexellis', 'local-template', sha))).functions.map((f) => f.name)).toEqual([
      'alexellis-fn1',
    ]);
  });
});
