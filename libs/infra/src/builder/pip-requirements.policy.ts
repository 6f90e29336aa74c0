import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { BuildFailure } from './builder.port.js';
import { readContextFile } from './context-file.reader.js';

const SOURCE_BUILDS_HINT = 'building it runs its build backend; the operator allows that with PIP_SOURCE_BUILDS=true';
const MAX_NESTED_FILES = 20;

/**
 * Checks a requirements file (and the files it includes) before pip reads it: no option that names a program,
 * a local path outside the build context or a VCS checkout, no `${VAR}` (pip expands it from the build's
 * environment), and, unless the operator allows source builds, nothing that pip could only build from source.
 */
export async function checkRequirements(file: string, contextRoot: string, sourceBuilds: boolean, seen = new Set<string>()): Promise<void> {
  const root = await realpath(contextRoot);
  const real = await insideContext(file, root, relative(contextRoot, file));
  if (seen.has(real)) return;
  seen.add(real);
  if (seen.size > MAX_NESTED_FILES)
    throw new BuildFailure(`${relative(root, real)}: more than ${MAX_NESTED_FILES} nested requirements files`);
  const where = relative(root, real);
  const content = await readContextFile(real);
  if (content === null) throw new BuildFailure(`${where} is not a regular file`);
  const text = content.toString('utf8');
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const at = `${where}:${index + 1}`;
    if (line.includes('${')) throw new BuildFailure(`${at}: environment variables (\${…}) are not expanded in builds`);
    const tokens = line.split(/\s+/);
    if (tokens[0]!.startsWith('-')) await checkOptions(tokens, at, dirname(real), root, sourceBuilds, seen);
    else checkRequirement(tokens, at, dirname(real), root, sourceBuilds);
  }
}

/** Options a requirements file may carry; each maps to whether it takes a value. */
const allowedOptions: Record<string, boolean> = {
  '-i': true,
  '--index-url': true,
  '--extra-index-url': true,
  '-f': true,
  '--find-links': true,
  '--trusted-host': true,
  '--pre': false,
  '--prefer-binary': false,
  '--require-hashes': false,
  '--no-index': false,
  '--only-binary': true,
  '-r': true,
  '--requirement': true,
  '-c': true,
  '--constraint': true,
};

async function checkOptions(
  tokens: string[],
  at: string,
  dir: string,
  root: string,
  sourceBuilds: boolean,
  seen: Set<string>,
): Promise<void> {
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i]!;
    const [name, attached] = splitOption(token);
    if ((name === '-e' || name === '--editable') && sourceBuilds) {
      checkRequirement([attached ?? tokens[++i] ?? ''], at, dir, root, sourceBuilds);
      continue;
    }
    if (name === '--no-binary' && sourceBuilds) {
      if (attached === undefined) i += 1;
      continue;
    }
    if (!(name in allowedOptions)) {
      const why = ['-e', '--editable', '--no-binary'].includes(name) ? SOURCE_BUILDS_HINT : 'it is not allowed in a build';
      throw new BuildFailure(`${at}: option ${name} refused: ${why}`);
    }
    if (!allowedOptions[name]) continue;
    const value = attached ?? tokens[++i];
    if (value === undefined) throw new BuildFailure(`${at}: option ${name} needs a value`);
    if (name === '--only-binary' && value !== ':all:' && !sourceBuilds)
      throw new BuildFailure(`${at}: --only-binary ${value} refused: ${SOURCE_BUILDS_HINT}`);
    if (['-i', '--index-url', '--extra-index-url'].includes(name) && !/^https?:\/\//i.test(value))
      throw new BuildFailure(`${at}: ${name} must be an http(s) URL`);
    if (name === '-f' || name === '--find-links') {
      if (/^https?:\/\//i.test(value)) continue;
      if (/^[a-z][a-z0-9+.-]*:/i.test(value) && !value.startsWith('file:'))
        throw new BuildFailure(`${at}: ${name} must be an http(s) URL or a folder of the handler`);
      // pip looks next to the requirements file first, then in its working folder (the context root).
      const nextToFile = await realpath(resolveLocal(value, dir)).catch(() => null);
      await insideContext(nextToFile ? resolveLocal(value, dir) : resolveLocal(value, root), root, `${at}: ${name} ${value}`);
    }
    if (['-r', '--requirement', '-c', '--constraint'].includes(name)) {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value))
        throw new BuildFailure(`${at}: ${name} ${value} refused: only requirements files of the handler are read`);
      await insideContext(resolveLocal(value, dir), root, `${at}: ${name} ${value}`);
      await checkRequirements(resolveLocal(value, dir), root, sourceBuilds, seen);
    }
  }
}

function checkRequirement(tokens: string[], at: string, dir: string, root: string, sourceBuilds: boolean): void {
  const options = tokens.filter((token) => token.startsWith('-'));
  const refused = options.find((option) => !option.startsWith('--hash='));
  if (refused) throw new BuildFailure(`${at}: option ${splitOption(refused)[0]} refused: it is not allowed in a build`);
  const requirement = tokens.filter((token) => !token.startsWith('-')).join(' ');
  // `name @ url`, a bare URL or a bare path: where pip would fetch it from.
  const target = (/@\s*(\S+)/.exec(requirement.split(';')[0]!)?.[1] ?? requirement.split(/[\s;]/)[0]!).trim();
  if (/^(git|hg|svn|bzr)\+/i.test(target))
    throw new BuildFailure(
      `${at}: VCS requirement ${target.slice(0, 80)} refused: builds install packages from indexes, wheels and the handler's files only`,
    );
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
  // pip reads a requirement as a path when it has a slash or names an archive.
  const isPath =
    !isUrl &&
    (/^(\.{1,2}$|~|file:)/.test(target) || target.includes('/') || /\.(whl|zip|tar|tgz|tar\.gz|tar\.bz2|tbz|tar\.xz|txz)$/i.test(target));
  if (isUrl && !/^(https?|file):\/\//i.test(target))
    throw new BuildFailure(`${at}: ${target.slice(0, 80)} refused: only http(s) URLs and the handler's files`);
  if (isPath || target.startsWith('file:')) {
    // pip reads such a path from its working folder (the context root), some forms from the file's folder: both must stay inside.
    const outside = [dir, root].some((base) => {
      const inside = relative(root, resolveLocal(target, base));
      return inside.startsWith('..') || isAbsolute(inside);
    });
    if (target.startsWith('~') || outside) throw new BuildFailure(`${at}: ${target.slice(0, 80)} is outside the handler's folder`);
  }
  const wheel = /\.whl(#.*)?$/i.test(target);
  if ((isUrl || isPath) && !wheel && !sourceBuilds)
    throw new BuildFailure(`${at}: ${target.slice(0, 80)} is a source tree or archive: ${SOURCE_BUILDS_HINT}`);
}

const splitOption = (token: string): [string, string | undefined] => {
  if (token.startsWith('--')) {
    const equals = token.indexOf('=');
    return equals === -1 ? [token, undefined] : [token.slice(0, equals), token.slice(equals + 1)];
  }
  return token.length > 2 ? [token.slice(0, 2), token.slice(2).replace(/^=/, '')] : [token, undefined];
};

const resolveLocal = (value: string, dir: string) => resolve(dir, value.replace(/^file:(\/\/)?/, ''));

/** The real path of `path`, which must exist inside the context (symlinks resolved). */
async function insideContext(path: string, root: string, what: string): Promise<string> {
  const named = relative(root, path);
  if (named.startsWith('..') || isAbsolute(named)) throw new BuildFailure(`${what}: outside the handler's folder`);
  const real = await realpath(path).catch(() => null);
  if (real === null) throw new BuildFailure(`${what}: not found in the handler's folder`);
  const inside = relative(root, real);
  if (inside.startsWith('..') || isAbsolute(inside)) throw new BuildFailure(`${what}: outside the handler's folder`);
  return real;
}
