import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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
  /** The templates folder it is made from: its own, or its family's (`node-http` for node18, node20 and node22). */
  folder: string;
  /** Runs behind the classic watchdog (its Dockerfile's): standard input is the request, standard output the answer. */
  classic: boolean;
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
      for (const template of [...(await this.families(root)), ...(await readTemplates(root, `builtin:${root}`))]) found.set(template.name, template);
    }
    return found;
  }

  /**
   * The templates of the folders of `root` that hold a `family.yml`: one runtime shared by several templates
   * (node18, node20, node22), or one template sharing files with a sibling (python takes python3's), each
   * assembled once under the cache, where the builders take it from.
   */
  private async families(root: string): Promise<Template[]> {
    const templates: Template[] = [];
    for (const entry of await readdir(root, { withFileTypes: true }).catch(() => [])) {
      const source = join(root, entry.name);
      const manifest = entry.isDirectory() ? await readFile(join(source, FAMILY_FILE), 'utf8').catch(() => null) : null;
      if (manifest === null) continue;
      templates.push(...(await readTemplates(await this.assemble(source, parseFamily(entry.name, manifest)), 'builtin:', entry.name)));
    }
    return templates;
  }

  private async assemble(source: string, family: Family): Promise<string> {
    const paths = (await readdir(source, { recursive: true })).filter((path) => path !== FAMILY_FILE).sort();
    const read = async (path: string, from: string) => {
      const info = await stat(from);
      return { path, mode: info.mode & 0o777, text: info.isFile() ? await readFile(from, 'utf8') : null };
    };
    const files = await Promise.all([
      ...paths.map((path) => read(path, join(source, path))),
      ...Object.entries(family.shared).map(([path, from]) => read(path, join(source, from))),
    ]);
    const digest = createHash('sha256').update(JSON.stringify([family, files.map(({ path, text }) => [path, text])])).digest('hex').slice(0, 16);
    const dir = join(this.options.cacheDir, 'builtin', `${basename(source)}-${digest}`);
    if (existsSync(dir)) {
      await markUsed(dir);
      return dir;
    }
    let pending = this.fetching.get(dir);
    if (!pending) {
      pending = this.intoPlace(dir, async (staging) => {
        for (const major of family.majors) {
          const fill = (text: string) => text.replaceAll('{{major}}', major);
          for (const { path, mode, text } of files) {
            if (text === null) continue;
            const target = join(staging, fill(family.name), path);
            await mkdir(dirname(target), { recursive: true });
            await writeFile(target, fill(text), { mode });
          }
        }
      }).finally(() => this.fetching.delete(dir));
      this.fetching.set(dir, pending);
    }
    return pending;
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

  private fetchInto(url: string, commit: string, token: string | null, dir: string): Promise<string> {
    return this.intoPlace(dir, async (staging) => {
      await fetchCommit({ url, sha: commit, dir: staging, token, limits: { timeoutMs: this.options.fetchTimeoutMs, maxFiles: 20_000, maxBytes: 200 * 1024 * 1024 } });
      await rm(join(staging, '.git'), { recursive: true, force: true });
    });
  }

  /** Fills a staging folder, then renames it to `dir`: the cached folder appears whole or not at all, even if this process dies meanwhile. */
  private async intoPlace(dir: string, fill: (staging: string) => Promise<void>): Promise<string> {
    const staging = `${dir}.${randomUUID()}.tmp`;
    try {
      await fill(staging);
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

async function readTemplates(root: string, origin: string, family?: string): Promise<Template[]> {
  await mkdir(root, { recursive: true }).catch(() => undefined);
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const templates: Template[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = join(root, entry.name);
    const manifest = await readFile(join(dir, 'template.yml'), 'utf8').catch(() => null);
    // A family's template.yml is the pattern of its members', not a template of its own.
    if (manifest === null || existsSync(join(dir, FAMILY_FILE))) continue;
    const template = parseTemplateManifest(entry.name.toLowerCase(), dir, manifest, origin.startsWith('builtin:') ? `builtin:${entry.name}` : origin);
    const dockerfile = await readFile(join(dir, 'Dockerfile'), 'utf8').catch(() => '');
    templates.push({ ...template, folder: family ?? entry.name, classic: isClassicWatchdog(dockerfile) });
  }
  return templates;
}

/** OpenFaaS's classic templates ship the classic watchdog (`ghcr.io/openfaas/classic-watchdog`); of-watchdog ones do not. */
export const isClassicWatchdog = (dockerfile: string) => /^\s*FROM\s.*\bclassic-watchdog\b/im.test(dockerfile);

export function parseTemplateManifest(
  name: string,
  dir: string,
  manifest: string,
  origin: string,
): Omit<Template, 'folder' | 'classic'> {
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

const FAMILY_FILE = 'family.yml';

/**
 * `family.yml`: the name of each template (with `{{major}}`), the versions to assemble, and files the members
 * share with a template beside the family (path in the member → path from the family's folder). Without
 * `{{major}}` and majors it names one template, assembled from its own files and the shared ones.
 */
type Family = Readonly<{ name: string; majors: readonly string[]; shared: Readonly<Record<string, string>> }>;

function parseFamily(folder: string, manifest: string): Family {
  const fields = load(manifest, { schema: FAILSAFE_SCHEMA }) as { name?: unknown; majors?: unknown; shared?: unknown } | null;
  const majors = Array.isArray(fields?.majors) ? fields.majors.filter((major): major is string => typeof major === 'string' && /^\d+$/.test(major)) : [];
  if (typeof fields?.name !== 'string' || fields.name.includes('{{major}}') !== majors.length > 0) {
    throw new TemplateProblem(`template family ${folder}: family.yml needs a name with {{major}} and a list of majors, or a name alone`);
  }
  const shared = Object.entries(typeof fields.shared === 'object' && fields.shared !== null ? fields.shared : {});
  // Only a sibling template's files: `../<template>/<file>`, never anything above the templates folder.
  if (shared.some(([path, from]) => typeof from !== 'string' || !/^\.\.\/[\w.-]+\/[\w./-]+$/.test(from) || from.includes('/../') || path.includes('..'))) {
    throw new TemplateProblem(`template family ${folder}: shared files must be ../<template>/<file>`);
  }
  // A name alone is a family of one: the template itself, taking its shared files from a sibling.
  return { name: fields.name, majors: majors.length > 0 ? majors : [''], shared: Object.fromEntries(shared) as Record<string, string> };
}
