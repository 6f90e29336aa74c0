import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemplateProblem, TemplateRegistry } from '#infra';
import { gitFixtures, testTemplateFiles, writeTemplates, type GitFixtures } from '../../../test/support/git-repos.js';

let git: GitFixtures;
let fetches = 0;
let cacheDir: string;
let builtin: string;
let operator: string;

const templateRepo = (marker: string) =>
  Object.fromEntries(Object.entries(testTemplateFiles).map(([file, content]) => [`template/golang-middleware/${file}`, file === 'index.js' ? `// ${marker}\n` : content]));

beforeAll(async () => {
  git = await gitFixtures({ beforeUploadPack: async () => void (fetches += 1) });
  cacheDir = mkdtempSync(join(tmpdir(), 'faasline-template-cache-'));
  builtin = writeTemplates(['node20', 'python3']);
  operator = writeTemplates(['python3']);
});
afterAll(async () => {
  await git.close();
  for (const dir of [cacheDir, builtin, operator]) rmSync(dir, { recursive: true, force: true });
});

const registry = () => new TemplateRegistry({ roots: [operator, builtin], cacheDir, gitAllowedHosts: [new URL(git.server.url).host], fetchTimeoutMs: 20_000 });

describe('template registry', () => {
  it('offers the built-in templates, an operator folder overriding the project’s', async () => {
    const templates = await registry().builtins();
    expect([...templates.keys()].sort()).toEqual(['node20', 'python3']);
    expect(templates.get('python3')!.dir.startsWith(operator)).toBe(true);
    expect(templates.get('node20')!).toMatchObject({ handlerFolder: 'function', fprocess: 'node index.js', origin: 'builtin:node20' });
  });

  it('fetches a git template source once per commit and follows the branch to a new commit', async () => {
    const first = git.commit('openfaas', 'golang-http-template', templateRepo('one'));
    const source = { name: 'golang-middleware', source: git.cloneUrl('openfaas', 'golang-http-template') };
    const resolved = await registry().resolve([source], null);
    expect(resolved.get('golang-middleware')!.origin).toBe(`${source.source}#${first}`);
    const cached = statSync(resolved.get('golang-middleware')!.dir);
    // Resolving again asks only which commit the branch is at (one ls-refs request), and fetches nothing.
    const before = fetches;
    const again = (await registry().resolve([source], null)).get('golang-middleware')!;
    expect(fetches - before).toBe(1);
    expect(statSync(again.dir).ino).toBe(cached.ino);

    const second = git.commit('openfaas', 'golang-http-template', templateRepo('two'));
    const updated = (await registry().resolve([source], null)).get('golang-middleware')!;
    expect(updated.origin).toBe(`${source.source}#${second}`);
    expect(readFileSync(join(updated.dir, 'index.js'), 'utf8')).toBe('// two\n');
    expect(fetches - before).toBeGreaterThan(2);
  });

  it('pins a source to a tag with #ref', async () => {
    const dir = join(git.root, 'openfaas', 'golang-http-template');
    execFileSync('git', ['tag', 'v1'], { cwd: dir });
    const tagged = execFileSync('git', ['rev-parse', 'v1'], { cwd: dir }).toString().trim();
    git.commit('openfaas', 'golang-http-template', templateRepo('three'));
    const pinned = (await registry().resolve([{ name: 'golang-middleware', source: `${git.cloneUrl('openfaas', 'golang-http-template')}#v1` }], null)).get('golang-middleware')!;
    expect(pinned.origin.endsWith(`#${tagged}`)).toBe(true);
    expect(readFileSync(join(pinned.dir, 'index.js'), 'utf8')).toBe('// two\n');
  });

  it('names what is wrong with a source', async () => {
    await expect(registry().resolve([{ name: 'golang-middleware', source: 'https://github.com/openfaas/golang-http-template' }], null)).rejects.toThrow(/host github.com is not in GIT_ALLOWED_HOSTS/);
    await expect(registry().resolve([{ name: 'rust', source: git.cloneUrl('openfaas', 'golang-http-template') }], null)).rejects.toThrow(TemplateProblem);
    await expect(registry().resolve([{ name: 'x', source: git.cloneUrl('openfaas', 'missing') }], null)).rejects.toThrow(/template repository .* not found|could not fetch/);
    await expect(registry().resolve([{ name: 'go', source: null }], null)).rejects.toThrow(/not built in and has no source/);
  });
});
