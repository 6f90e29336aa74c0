import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header, Pax, Parser } from 'tar';
import type { Template } from '../templates/template-registry.js';

export type ShrinkwrapInput = Readonly<{
  repoDir: string;
  /** Normalised, repository-relative (see `repositoryPath`). */
  handler: string;
  /** null for `lang: dockerfile`: the handler is the whole context. */
  template: Template | null;
  /** `configuration.copy`: repository-relative paths copied into the handler's place. */
  copy: readonly string[];
  buildArgs: Readonly<Record<string, string>>;
  limits: Readonly<{ maxBytes: number; maxFiles: number }>;
}>;

export type BuildContext = Readonly<{
  /** A tar in the Function Builder layout: `com.openfaas.docker.config`, then the context under `context/`. */
  archive: Buffer;
  /** `sha256:<hex>` of `archive`. */
  digest: string;
  bytes: number;
  files: number;
}>;

/** Why a function's files cannot be packaged, in words for its commit status. */
export class ContextProblem extends Error {
  override readonly name = 'ContextProblem';
}

export const BUILDER_CONFIG = 'com.openfaas.docker.config';
/** faas-cli leaves these out of a handler: they are its own output and template folders. */
const SKIPPED_IN_HANDLER = new Set(['build', 'template']);
const FIXED_MTIME = new Date(0);

type Entry = { type: 'Directory' } | { type: 'File'; mode: number; content: Buffer };

/**
 * faas-cli's `build --shrinkwrap` as bytes: the template, then the handler under the template's handler folder,
 * packed so that the same inputs always give the same tar (sorted paths, epoch mtimes, root owner, modes reduced
 * to 0644/0755). The image name is not inside: it changes with every commit, and the digest must not, or an
 * unchanged function could never reuse its last build.
 */
export async function shrinkwrap(input: ShrinkwrapInput): Promise<BuildContext> {
  const entries = new Map<string, Entry>();
  const budget = { bytes: 0, files: 0, limits: input.limits };
  const repoRoot = await realpath(input.repoDir);
  const handlerDir = await checkedFolder(repoRoot, input.handler, 'handler');
  const destination = input.template === null ? '' : input.template.handlerFolder;
  if (input.template !== null) {
    await addTree(entries, budget, await realpath(input.template.dir), await realpath(input.template.dir), '', false);
  }
  await addTree(entries, budget, repoRoot, handlerDir, destination, true);
  for (const path of input.copy) {
    const source = join(repoRoot, path);
    const info = await stat(source).catch(() => null);
    if (info === null) throw new ContextProblem(`configuration.copy path ${path} does not exist`);
    const target = destination === '' ? path : `${destination}/${path}`;
    if (info.isDirectory())
      await addTree(entries, budget, repoRoot, await checkedFolder(repoRoot, path, 'configuration.copy path'), target, false);
    else await addFile(entries, budget, repoRoot, source, target);
  }
  const archive = pack(entries, input.buildArgs);
  return { archive, digest: `sha256:${createHash('sha256').update(archive).digest('hex')}`, bytes: budget.bytes, files: budget.files };
}

async function checkedFolder(repoRoot: string, relative: string, what: string): Promise<string> {
  const path = join(repoRoot, relative);
  const info = await lstat(path).catch(() => null);
  if (info === null) throw new ContextProblem(`${what} ${relative} does not exist`);
  const real = await realpath(path);
  if (!inside(repoRoot, real)) throw new ContextProblem(`${what} ${relative} is a symlink to outside the repository`);
  if (!(await stat(real)).isDirectory()) throw new ContextProblem(`${what} ${relative} is not a folder`);
  return real;
}

const inside = (root: string, path: string) => path === root || path.startsWith(root + sep);

type Budget = { bytes: number; files: number; limits: ShrinkwrapInput['limits'] };

async function addTree(
  entries: Map<string, Entry>,
  budget: Budget,
  root: string,
  dir: string,
  prefix: string,
  isHandler: boolean,
): Promise<void> {
  if (prefix !== '') addDirectories(entries, prefix);
  const children = (await readdir(dir)).sort();
  for (const name of children) {
    if (name === '.git') continue;
    if (isHandler && SKIPPED_IN_HANDLER.has(name)) continue;
    const path = join(dir, name);
    const target = prefix === '' ? name : `${prefix}/${name}`;
    const info = await lstat(path);
    if (info.isDirectory()) await addTree(entries, budget, root, path, target, false);
    else await addFile(entries, budget, root, path, target);
  }
}

async function addFile(entries: Map<string, Entry>, budget: Budget, root: string, path: string, target: string): Promise<void> {
  // realpath on every file, not only on links: a linked folder anywhere above the file would otherwise lead out.
  const real = await realpath(path).catch(() => '');
  if (real === '') throw new ContextProblem(`${target} is a broken symlink`);
  if (!inside(root, real)) throw new ContextProblem(`${target} is a symlink to outside the repository`);
  const resolved = await stat(real);
  if (resolved.isDirectory()) throw new ContextProblem(`${target} is a symlink to a folder; only files may be linked`);
  if (!resolved.isFile()) throw new ContextProblem(`${target} is not a regular file`);
  budget.files += 1;
  budget.bytes += resolved.size;
  if (budget.files > budget.limits.maxFiles) throw new ContextProblem(`the build context has more than ${budget.limits.maxFiles} files`);
  if (budget.bytes > budget.limits.maxBytes) {
    throw new ContextProblem(`the build context is over ${(budget.limits.maxBytes / 1024 / 1024).toFixed(0)} MB`);
  }
  addDirectories(entries, target.split('/').slice(0, -1).join('/'));
  entries.set(target, { type: 'File', mode: resolved.mode & 0o111 ? 0o755 : 0o644, content: await readFile(real) });
}

function addDirectories(entries: Map<string, Entry>, path: string): void {
  const parts = path.split('/').filter(Boolean);
  for (let depth = 1; depth <= parts.length; depth += 1) {
    const dir = parts.slice(0, depth).join('/');
    const existing = entries.get(dir);
    if (existing?.type === 'File') throw new ContextProblem(`${dir} is both a file and a folder in the build context`);
    entries.set(dir, { type: 'Directory' });
  }
}

function pack(entries: ReadonlyMap<string, Entry>, buildArgs: Readonly<Record<string, string>>): Buffer {
  const sortedArgs = Object.fromEntries(Object.entries(buildArgs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const paths = [...entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return writeTar([
    [BUILDER_CONFIG, { type: 'File', mode: 0o644, content: Buffer.from(JSON.stringify({ buildArgs: sortedArgs })) }],
    ['context', { type: 'Directory' }],
    ...paths.map((path): [string, Entry] => [`context/${path}`, entries.get(path)!]),
  ]);
}

/** A tar of exactly these entries, in this order, with root owner and epoch times. */
function writeTar(entries: readonly (readonly [string, Entry])[]): Buffer {
  const blocks: Buffer[] = [];
  for (const [path, entry] of entries) {
    const size = entry.type === 'File' ? entry.content.length : 0;
    const fields = {
      path: entry.type === 'Directory' ? `${path}/` : path,
      mode: entry.type === 'File' ? entry.mode : 0o755,
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
      size,
      mtime: FIXED_MTIME,
      type: entry.type,
    };
    const header = new Header(fields);
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    if (header.needPax) blocks.push(new Pax({ path: fields.path, mtime: FIXED_MTIME }).encode());
    blocks.push(block);
    if (entry.type === 'File') {
      blocks.push(entry.content);
      if (size % 512 !== 0) blocks.push(Buffer.alloc(512 - (size % 512)));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/**
 * What a build daemon fetches: the context alone, with the Dockerfile at its root, gzipped (BuildKit unpacks an
 * HTTP context that starts with gzip magic). The build arguments travel in the solve request instead.
 */
export function contextTarball(archive: Buffer): Buffer {
  const entries: [string, Entry][] = [];
  const parser = new Parser({
    onReadEntry: (entry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () => {
        const path = entry.path.replace(/\/$/, '');
        if (!path.startsWith('context/')) return;
        entries.push([
          path.slice('context/'.length),
          entry.type === 'Directory' ? { type: 'Directory' } : { type: 'File', mode: entry.mode ?? 0o644, content: Buffer.concat(chunks) },
        ]);
      });
    },
  });
  parser.end(archive);
  return gzipSync(writeTar(entries), { level: 6 });
}
