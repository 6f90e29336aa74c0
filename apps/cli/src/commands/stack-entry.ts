// Adding a function to a stack.yml as text, so the user's comments and layout stay as they wrote them.
import { load } from 'js-yaml';

export type StackEntry = { key: string; lang: string; handler: string; image: string };

type ParsedStack = { functions?: Record<string, unknown> | null } | null;

/** The functions a stack file declares, or why it cannot be read. */
export function declaredFunctions(text: string): string[] | { problem: string } {
  try {
    const parsed = load(text) as ParsedStack;
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) return { problem: 'it is not a YAML mapping' };
    const functions = parsed?.functions;
    if (functions !== undefined && functions !== null && (typeof functions !== 'object' || Array.isArray(functions)))
      return { problem: 'functions: is not a mapping' };
    return Object.keys(functions ?? {});
  } catch (error) {
    return { problem: (error as Error).message.split('\n')[0]! };
  }
}

const entryLines = (entry: StackEntry, indent: string) => [
  `${indent}${entry.key}:`,
  `${indent}${indent}lang: ${entry.lang}`,
  `${indent}${indent}handler: ${entry.handler}`,
  `${indent}${indent}image: ${entry.image}`,
];

export const newStack = (entry: StackEntry) =>
  ['version: 1.0', 'provider:', '  name: openfaas', 'functions:', ...entryLines(entry, '  '), ''].join('\n');

/**
 * The stack file with `entry` added at the end of its `functions:` block (indented like its other entries), or
 * a `functions:` block appended when it has none. Null when the text is laid out in a way this cannot follow
 * (flow style, say): the caller then says so rather than rewriting the file.
 */
export function withEntry(text: string, entry: StackEntry): string | null {
  const lines = text.replace(/\n*$/, '').split('\n');
  const start = lines.findIndex((line) => /^functions:\s*(#.*)?$/.test(line));
  let result: string[];
  if (start === -1) {
    if (lines.some((line) => /^functions:/.test(line))) return null;
    result = [...lines, 'functions:', ...entryLines(entry, '  ')];
  } else {
    let end = start + 1;
    let indent: string | null = null;
    for (; end < lines.length; end += 1) {
      const line = lines[end]!;
      if (/^\s*(#.*)?$/.test(line)) continue;
      const leading = /^(\s*)/.exec(line)![1]!;
      if (leading === '') break;
      indent ??= leading;
    }
    // Blank lines and comments just before the next top-level key belong to it, not to the functions.
    while (end > start + 1 && /^\s*(#.*)?$/.test(lines[end - 1]!)) end -= 1;
    result = [...lines.slice(0, end), ...entryLines(entry, indent ?? '  '), ...lines.slice(end)];
  }
  const updated = `${result.join('\n')}\n`;
  const declared = declaredFunctions(updated);
  return Array.isArray(declared) && declared.includes(entry.key) ? updated : null;
}
