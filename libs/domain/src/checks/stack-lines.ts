/**
 * The line (1-based) of each function's key under `functions:` in a stack file's text, for annotations that point
 * at the function rather than at the file. A best effort on the text as written (block style); a key it cannot
 * find (flow style, anchors, odd quoting) is left out and its annotation falls back to line 1.
 */
export function functionLines(text: string, functions: readonly string[]): Readonly<Record<string, number>> {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => /^functions\s*:\s*(#.*)?$/.test(line));
  if (start < 0) return {};
  const found: Record<string, number> = {};
  for (let index = start + 1; index < lines.length; index += 1) {
    const line = lines[index]!;
    if (/^\S/.test(line) && !line.startsWith('#')) break;
    const key = /^\s+(["']?)([^"':#\s][^"':#]*?)\1\s*:(\s|$)/.exec(line)?.[2];
    if (
      key !== undefined &&
      functions.includes(key) &&
      found[key] === undefined &&
      /^(\s+)/.exec(line)![1]!.length === indentOfFirst(lines, start)
    )
      found[key] = index + 1;
  }
  return found;
}

/** The indentation of the first key under `functions:`: deeper keys (a function's own fields) are not functions. */
function indentOfFirst(lines: readonly string[], start: number): number {
  for (let index = start + 1; index < lines.length; index += 1) {
    const match = /^(\s+)\S/.exec(lines[index]!);
    if (match && !lines[index]!.trim().startsWith('#')) return match[1]!.length;
  }
  return -1;
}
