import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FAILSAFE_SCHEMA, load } from 'js-yaml';
import { templateSourceProblem, type TemplateSource } from '#domain';
import { markUsed } from '../disk/mark-used.js';
import { fetchCommit, FetchFailed, resolveRef } from '../git/git-source.js';

/** A language template: `template/<lang>/` with its `template.yml`, as faas-cli lays it out. */
export type Template = Readonly<{
  name: string;
  dir: string;
  /** Where the handler goes inside the build context (`function` unless template.yml says otherwise). */
  handlerFolder: string;
  fprocess: string | null;
  /** `build_options` of template.yml: option name → packages for the `ADDITIONAL_PACKAGE` build arg. */
  buildOptions: ReadonlyMap<string, readonly string[]>;
  /** `builtin:<folder>` or `<git url>#<commit>`: where the bytes came from, for the build record. */
  origin: string;
}>;

export class TemplateProblem extends Error {
  override readonly name = 'TemplateProblem';
}

export type TemplateRegistryOptions = Readonly<{
  /** Folders holding `<lang>/template.yml`, searched in order: the operator's first, the project's own last. */
  roots: readonly string[];
  /** Where fetched template repositories are kept, one folder per commit. */
  cacheDir: string;
  gitAllowedHosts: readonly string[];
  fetchTimeoutMs: number;
}>;

/**
 * Languages available to a stack file: the built-in set plus the git template repositories its
 * `configuration.templates` names. A repository is fetched once per commit and kept; `#ref` pins a branch or tag.
 */
export class TemplateRegistry {
  private readonly fetching = new Map<string, Promise<string>>();

  constructor(private readonly options: TemplateRegistryOptions) {}

  async builtins(): Promise<Map<string, Template>> {
    const found = new Map<string, Template>();
    for (const root of [...this.options.roots].reverse()) {
      for (const template of await readTemplates(root, `builtin:${root}`)) found.set(template.name, template);
    }
    return found;
  }

  /** Built-in templates overlaid with those the stack file pulls from git; throws TemplateProblem for the user. */
  async resolve(sources: readonly TemplateSource[], token: string | null): Promise<Map<string, Template>> {
    const templates = await this.builtins();
    for (const source of sources) {
      if (source.source === null) {
        if (!templates.has(source.name.toLowerCase())) throw new TemplateProblem(`template ${source.name} is not built in and has no source`);
        continue;
      }
      const problem = templateSourceProblem(source.source, this.options.gitAllowedHosts);
      if (problem) throw new TemplateProblem(`template ${source.name}: ${problem}`);
      const [raw = '', ref = null] = source.source.split('#', 2) as [string, string?];
      const url = new URL(raw).href;
      const checkout = await this.checkout(url, ref || null, token);
      const template = (await readTemplates(join(checkout.dir, 'template'), `${url}#${checkout.commit}`)).find(
        (candidate) => candidate.name === source.name.toLowerCase(),
      );
      if (!template) throw new TemplateProblem(`template ${source.name} is not in ${url.slice(0, 60)}`);
      templates.set(template.name, template);
    }
    return templates;
  }

  private async checkout(url: string, ref: string | null, token: string | null): Promise<{ dir: string; commit: string }> {
    try {
      const commit = await resolveRef(url, ref, token, this.options.fetchTimeoutMs);
      const dir = join(this.options.cacheDir, createHash('sha256').update(url).digest('hex').slice(0, 16), commit);
      if (existsSync(dir)) await markUsed(dir);
      else {
        let pending = this.fetching.get(dir);
        if (!pending) {
          pending = this.fetchInto(url, commit, token, dir).finally(() => this.fetching.delete(dir));
          this.fetching.set(dir, pending);
        }
        await pending;
      }
      return { dir, commit };
    } catch (error) {
      if (error instanceof FetchFailed) throw new TemplateProblem(`template repository ${url.slice(0, 60)}: ${error.message}`);
      throw error;
    }
  }

  private async fetchInto(url: string, commit: string, token: string | null, dir: string): Promise<string> {
    const staging = `${dir}.${randomUUID()}.tmp`;
    try {
      await fetchCommit({ url, sha: commit, dir: staging, token, limits: { timeoutMs: this.options.fetchTimeoutMs, maxFiles: 20_000, maxBytes: 200 * 1024 * 1024 } });
      await rm(join(staging, '.git'), { recursive: true, force: true });
      // Renaming makes the cached folder appear whole or not at all, even if this process dies mid-fetch.
      await rename(staging, dir).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
        await rm(staging, { recursive: true, force: true });
      });
      return dir;
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }
}

async function readTemplates(root: string, origin: string): Promise<Template[]> {
  await mkdir(root, { recursive: true }).catch(() => undefined);
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const templates: Template[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = join(root, entry.name);
    const manifest = await readFile(join(dir, 'template.yml'), 'utf8').catch(() => null);
    if (manifest === null) continue;
    templates.push(parseTemplateManifest(entry.name.toLowerCase(), dir, manifest, origin.startsWith('builtin:') ? `builtin:${entry.name}` : origin));
  }
  return templates;
}

export function parseTemplateManifest(name: string, dir: string, manifest: string, origin: string): Template {
  let document: unknown;
  try {
    document = load(manifest, { schema: FAILSAFE_SCHEMA });
  } catch {
    throw new TemplateProblem(`template ${name}: template.yml is not valid YAML`);
  }
  const fields = (typeof document === 'object' && document !== null ? document : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
  const handlerFolder = text(fields.handler_folder) ?? 'function';
  if (handlerFolder.includes('..') || handlerFolder.startsWith('/')) throw new TemplateProblem(`template ${name}: handler_folder must stay inside the template`);
  const options = Array.isArray(fields.build_options) ? fields.build_options : [];
  return {
    name,
    dir,
    handlerFolder,
    fprocess: text(fields.fprocess),
    buildOptions: new Map(
      options.flatMap((option) => {
        const entry = option as { name?: unknown; packages?: unknown };
        return typeof entry.name === 'string' ? [[entry.name, Array.isArray(entry.packages) ? entry.packages.filter((p): p is string => typeof p === 'string') : []]] : [];
      }),
    ),
    origin,
  };
}
