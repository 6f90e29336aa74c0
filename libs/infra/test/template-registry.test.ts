import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TemplateProblem, TemplateRegistry } from '#infra';
import { gitFixtures, testTemplateFiles, writeTemplates, type GitFixtures } from '../../../test/support/git-repos.js';

let git: GitFixtures;
let fetches = 0;
let cacheDir: string;
let builtin: string;
let operator: string;

const templateRepo = (marker: string) =>
  Object.fromEntries(
    Object.entries(testTemplateFiles).map(([file, content]) => [
      `template/golang-middleware/${file}`,
      file === 'index.js' ? `// ${marker}\n` : content,
    ]),
  );

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

const registry = () =>
  new TemplateRegistry({ roots: [operator, builtin], cacheDir, gitAllowedHosts: [new URL(git.server.url).host], fetchTimeoutMs: 20_000 });

describe('template registry', () => {
  it('offers the built-in templates, an operator folder overriding the project’s', async () => {
    const templates = await registry().builtins();
    expect([...templates.keys()].sort()).toEqual(['node20', 'python3']);
    expect(templates.get('python3')!.dir.startsWith(operator)).toBe(true);
    expect(templates.get('node20')!).toMatchObject({ handlerFolder: 'function', fprocess: 'node index.js', origin: 'builtin:node20' });
  });

  it('assembles node18, node20 and node22 from the one runtime they share, each with its own Node.js', async () => {
    const project = fileURLToPath(new URL('../../../templates', import.meta.url));
    const templates = await new TemplateRegistry({ roots: [project], cacheDir, gitAllowedHosts: [], fetchTimeoutMs: 1000 }).builtins();
    expect([...templates.keys()].sort()).toEqual(['node', 'node18', 'node20', 'node22', 'python', 'python3', 'python3-http']);
    for (const major of ['18', '20', '22']) {
      const template = templates.get(`node${major}`)!;
      expect(template).toMatchObject({ handlerFolder: 'function', fprocess: 'node index.js', origin: `builtin:node${major}` });
      const file = (name: string) => readFileSync(join(template.dir, name), 'utf8');
      expect(file('Dockerfile')).toContain(`FROM --platform=\${TARGETPLATFORM:-linux/amd64} node:${major}-alpine AS ship`);
      expect(file('template.yml')).toBe(
        `language: node${major}\nfprocess: node index.js\nwelcome_message: |\n  You have created a new function which uses Node.js ${major}.\nhandler_folder: function\n`,
      );
      expect(JSON.parse(file('package.json'))).toMatchObject({ name: `openfaas-node${major}` });
      expect(file('index.js')).toBe(readFileSync(join(project, 'node-http', 'index.js'), 'utf8').replace('{{major}}', major));
      expect(file('secrets-shim.js')).toBe(readFileSync(join(project, 'node', 'secrets-shim.js'), 'utf8'));
      expect(file('function/handler.js')).toBe(readFileSync(join(project, 'node-http', 'function', 'handler.js'), 'utf8'));
      expect(file('Dockerfile')).not.toContain('{{major}}');
    }
    // Which folder each language comes from, and which run behind the classic watchdog (GET /api/v1/languages).
    expect(
      Object.fromEntries(
        [...templates.values()].map((template) => [template.name, `${template.folder}${template.classic ? ' classic' : ''}`]),
      ),
    ).toEqual({
      node: 'node classic',
      node18: 'node-http',
      node20: 'node-http',
      node22: 'node-http',
      python: 'python classic',
      python3: 'python3 classic',
      'python3-http': 'python3-http',
    });
    // Assembled once: a second registry finds the same folder.
    const again = await new TemplateRegistry({ roots: [project], cacheDir, gitAllowedHosts: [], fetchTimeoutMs: 1000 }).builtins();
    expect(again.get('node20')!.dir).toBe(templates.get('node20')!.dir);
  });

  it('assembles python and python3-http with the files they share with python3, byte for byte', async () => {
    const project = fileURLToPath(new URL('../../../templates', import.meta.url));
    const templates = await new TemplateRegistry({ roots: [project], cacheDir, gitAllowedHosts: [], fetchTimeoutMs: 1000 }).builtins();
    const files = (dir: string) =>
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
        .sort();
    const python = templates.get('python')!;
    expect(python).toMatchObject({ handlerFolder: 'function', fprocess: 'python3 index.py', origin: 'builtin:python' });
    expect(files(python.dir)).toEqual(files(join(project, 'python3')));
    for (const file of files(python.dir)) {
      const from = file === 'template.yml' ? join(project, 'python', file) : join(project, 'python3', file);
      expect(readFileSync(join(python.dir, file), 'utf8')).toBe(readFileSync(from, 'utf8'));
    }
    const http = templates.get('python3-http')!;
    expect(http).toMatchObject({ handlerFolder: 'function', fprocess: 'python3 index.py', origin: 'builtin:python3-http' });
    expect(files(http.dir)).toEqual([
      'Dockerfile',
      'function/__init__.py',
      'function/handler.py',
      'function/requirements.txt',
      'index.py',
      'secrets_shim.py',
      'template.yml',
    ]);
    expect(readFileSync(join(http.dir, 'secrets_shim.py'), 'utf8')).toBe(readFileSync(join(project, 'python3', 'secrets_shim.py'), 'utf8'));
    expect(readFileSync(join(http.dir, 'index.py'), 'utf8')).toBe(readFileSync(join(project, 'python3-http', 'index.py'), 'utf8'));
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
    const pinned = (
      await registry().resolve([{ name: 'golang-middleware', source: `${git.cloneUrl('openfaas', 'golang-http-template')}#v1` }], null)
    ).get('golang-middleware')!;
    expect(pinned.origin.endsWith(`#${tagged}`)).toBe(true);
    expect(readFileSync(join(pinned.dir, 'index.js'), 'utf8')).toBe('// two\n');
  });

  it('names what is wrong with a source', async () => {
    await expect(
      registry().resolve([{ name: 'golang-middleware', source: 'https://github.com/openfaas/golang-http-template' }], null),
    ).rejects.toThrow(/host github.com is not in GIT_ALLOWED_HOSTS/);
    await expect(registry().resolve([{ name: 'rust', source: git.cloneUrl('openfaas', 'golang-http-template') }], null)).rejects.toThrow(
      TemplateProblem,
    );
    await expect(registry().resolve([{ name: 'x', source: git.cloneUrl('openfaas', 'missing') }], null)).rejects.toThrow(
      /template repository .* not found|could not fetch/,
    );
    await expect(registry().resolve([{ name: 'go', source: null }], null)).rejects.toThrow(/not built in and has no source/);
  });
});
