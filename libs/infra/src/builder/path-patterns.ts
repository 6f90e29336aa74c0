/**
 * The path filters BuildKit asks a FileSync sender for (fsutil's FilterFS): `include-patterns`, `exclude-patterns`
 * (.dockerignore lines, `!` re-includes, the last matching line wins) and `followpaths`. A pattern matches a path or
 * any folder above it; `*` and `?` stay within one path element, `**` spans any number, `[...]` is a class.
 */
export type PathFilter = Readonly<{ includes: readonly string[]; excludes: readonly string[]; followPaths: readonly string[] }>;

type Compiled = Readonly<{ negated: boolean; regex: RegExp }>;

/** Whether a path is wanted by itself; the folders above a wanted path are the sender's to add. */
export function pathFilter(filter: PathFilter): (path: string) => boolean {
  const compiled = (patterns: readonly string[]) => patterns.map(compile).filter((pattern): pattern is Compiled => pattern !== null);
  const includes = compiled([...filter.includes, ...filter.followPaths]);
  const excludes = compiled(filter.excludes);
  return (path) => {
    if (includes.length > 0 && !includes.some((pattern) => matchesOrParent(pattern.regex, path))) return false;
    let excluded = false;
    for (const pattern of excludes) if (matchesOrParent(pattern.regex, path)) excluded = !pattern.negated;
    return !excluded;
  };
}

function compile(raw: string): Compiled | null {
  const negated = raw.startsWith('!');
  const cleaned = clean(negated ? raw.slice(1) : raw);
  if (cleaned === '' || cleaned === '.') return null;
  let source = '';
  for (let i = 0; i < cleaned.length; i += 1) {
    const char = cleaned[i]!;
    if (char === '*' && cleaned[i + 1] === '*') {
      i += 1;
      if (cleaned[i + 1] === '/') {
        i += 1;
        source += '(?:.*/)?';
      } else source += '.*';
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const end = cleaned.indexOf(']', i + 2);
      if (end < 0) source += '\\[';
      else {
        const body = cleaned.slice(i + 1, end);
        source += `[${body.startsWith('!') ? `^${body.slice(1)}` : body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (char === '\\' && i + 1 < cleaned.length) {
      i += 1;
      source += escape(cleaned[i]!);
    } else source += escape(char);
  }
  return { negated, regex: new RegExp(`^${source}$`) };
}

/** Like Go's filepath.Clean on a pattern relative to the context root. */
function clean(pattern: string): string {
  const parts: string[] = [];
  for (const part of pattern.trim().split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

const escape = (char: string) => char.replace(/[.+^${}()|[\]\\/*?]/g, '\\$&');

function matchesOrParent(regex: RegExp, path: string): boolean {
  const parts = path.split('/');
  for (let n = parts.length; n > 0; n -= 1) if (regex.test(parts.slice(0, n).join('/'))) return true;
  return false;
}
