import { lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { BuildFailure } from './builder.port.js';

/**
 * What a handler's `.npmrc` may set: registries and their credentials, certificates, and peer-dependency
 * strictness. Everything else — above all whatever names a program or a path (`git`, `script-shell`, `shell`,
 * `node-options`, `prefix`, `userconfig`, `cache`, `cafile`, …) — is dropped before npm runs.
 */
const allowedKeys: readonly [RegExp, (value: string) => boolean][] = [
  [/^registry$/, isHttpUrl],
  [/^@[a-z0-9][a-z0-9._-]*:registry$/i, isHttpUrl],
  [/^\/\/[^\s=/][^\s=]*\/:(_authToken|_auth|username|_password|email)$/, () => true],
  [/^\/\/[^\s=/][^\s=]*\/:always-auth$/, isBoolean],
  [/^(_auth|email)$/, () => true],
  [/^(always-auth|strict-ssl|legacy-peer-deps|strict-peer-deps|engine-strict)$/, isBoolean],
  [/^ca(\[\])?$/, () => true],
];

function isHttpUrl(value: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(unquote(value));
}

function isBoolean(value: string): boolean {
  return /^(true|false)$/.test(unquote(value));
}

const unquote = (value: string) => value.replace(/^(["'])(.*)\1$/, '$2');

/** A `.npmrc`'s text reduced to its allowed settings, and the names of the settings left out. */
export function sanitizeNpmrc(text: string): { text: string; ignored: string[] } {
  const kept: string[] = [];
  const ignored: string[] = [];
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    // ini sections nest their keys where npm does not look for settings: nothing in one is kept.
    if (line.startsWith('[')) {
      inSection = true;
      ignored.push(line.slice(0, 60));
      continue;
    }
    const equals = line.indexOf('=');
    const key = (equals === -1 ? line : line.slice(0, equals)).trim();
    const value = equals === -1 ? 'true' : line.slice(equals + 1).trim();
    const rule = allowedKeys.find(([pattern]) => pattern.test(key));
    // `${VAR}` would be expanded by npm from the build's environment, i.e. the operator's registry credentials.
    const safeValue = !value.includes('${') && ![...value].some((char) => char.charCodeAt(0) < 0x20 && char !== '\t');
    if (inSection || !rule || !safeValue || !rule[1](value)) {
      ignored.push(key.slice(0, 60));
      continue;
    }
    kept.push(`${key}=${value}`);
  }
  return { text: kept.length > 0 ? `${kept.join('\n')}\n` : '', ignored };
}

/**
 * Rewrites every `.npmrc` of the build context to its allowed settings (a `.npmrc` that is not a regular file
 * is removed), so whichever of them npm reads as the project's configuration names no program.
 */
export async function lockNpmrcFiles(contextRoot: string, log: (line: string) => void, dir = contextRoot): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') await lockNpmrcFiles(contextRoot, log, path);
    if (entry.name !== '.npmrc' || entry.isDirectory()) continue;
    const where = relative(contextRoot, path);
    const info = await lstat(path);
    if (!info.isFile()) {
      await rm(path, { recursive: true, force: true });
      log(`${where}: not a regular file, left out`);
      continue;
    }
    const { text, ignored } = sanitizeNpmrc(await readFile(path, 'utf8'));
    await writeFile(path, text);
    if (ignored.length > 0)
      log(`${where}: ignored ${ignored.join(', ')} (a handler's .npmrc may set only registries, their credentials and certificates)`);
  }
}

const dependencyFields = ['dependencies', 'optionalDependencies', 'devDependencies', 'peerDependencies'] as const;

/** Whether npm would fetch `spec` with git (npm-package-arg's git and hosted-git forms). */
export function isGitSpec(spec: string): boolean {
  return (
    /^(git\+|git:|github:|gitlab:|bitbucket:|gist:)/i.test(spec) ||
    /^[a-z0-9][\w.-]*\/[\w.-]+(#.*)?$/i.test(spec) ||
    /^https?:\/\/(www\.)?(github\.com|gitlab\.com|bitbucket\.org|gist\.github\.com)\/[^/#]+\/[^/#]+\/?(#.*)?$/i.test(spec)
  );
}

/**
 * Refuses what npm must not do for a handler: git dependencies (git runs programs and hooks chosen by the
 * repository it clones, and npm runs a git package's `prepare` script), and local dependencies outside the
 * build context (they would copy server files into the image).
 */
export function checkNpmDependencies(manifest: Record<string, unknown>, dir: string, contextRoot: string): void {
  const where = relative(contextRoot, join(dir, 'package.json'));
  const workspaces = manifest.workspaces;
  const patterns = Array.isArray(workspaces) ? workspaces : ((workspaces as { packages?: unknown } | undefined)?.packages ?? []);
  for (const pattern of Array.isArray(patterns) ? patterns : [patterns]) {
    if (typeof pattern !== 'string' || pattern.startsWith('/') || pattern.startsWith('~') || pattern.split(/[\\/]/).includes('..')) {
      throw new BuildFailure(`${where}: workspace ${String(pattern).slice(0, 80)} is outside the handler's folder`);
    }
  }
  for (const field of dependencyFields) {
    const deps = manifest[field];
    if (deps === undefined) continue;
    if (typeof deps !== 'object' || deps === null) throw new BuildFailure(`${where}: ${field} is not an object`);
    for (const [name, spec] of Object.entries(deps as Record<string, unknown>)) {
      if (typeof spec !== 'string') throw new BuildFailure(`${where}: ${field}.${name} is not a string`);
      if (isGitSpec(spec))
        throw new BuildFailure(
          `${where}: git dependency ${name} (${spec.slice(0, 80)}) refused: builds install registry and local packages only`,
        );
      const local = /^(file:|link:)/.test(spec) ? spec.replace(/^(file|link):/, '') : /^(\.{1,2}\/|\/|~)/.test(spec) ? spec : null;
      if (local === null) continue;
      const target = resolve(dir, local);
      const inside = relative(contextRoot, target);
      if (local.startsWith('~') || inside.startsWith('..') || isAbsolute(inside))
        throw new BuildFailure(`${where}: local dependency ${name} (${spec.slice(0, 80)}) is outside the handler's folder`);
    }
  }
}
