// The languages this machine's faasline builds: its templates/ folder (and TEMPLATES_DIR), assembled the way
// the pipeline's template registry assembles them (families such as node-http become node18, node20, node22).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Template } from '#infra';

export type Language = { name: string; classic: boolean };

const BUILTIN_TEMPLATES = fileURLToPath(new URL('../../../../templates', import.meta.url));

/** Runs `use` with the local templates, assembled into a temporary folder removed afterwards. */
export async function withLocalTemplates<T>(use: (templates: Map<string, Template>) => Promise<T> | T): Promise<T> {
  // Loaded here only: the rest of the CLI starts without the infrastructure library.
  const { TemplateRegistry } = await import('#infra');
  const cacheDir = mkdtempSync(join(tmpdir(), 'faasline-templates-'));
  try {
    const roots = [
      ...(process.env.TEMPLATES_DIR ?? '')
        .split(/[,\n]/)
        .map((root) => root.trim())
        .filter(Boolean),
      BUILTIN_TEMPLATES,
    ];
    const templates = await new TemplateRegistry({ roots, cacheDir, gitAllowedHosts: [], fetchTimeoutMs: 0 }).builtins();
    return await use(templates);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** Classic templates run the classic watchdog: the process's standard output is the response. */
export const isClassic = (template: Template) => {
  try {
    return readFileSync(join(template.dir, 'Dockerfile'), 'utf8').includes('classic-watchdog');
  } catch {
    return false;
  }
};

export const languagesOf = (templates: Map<string, Template>): Language[] =>
  [...templates.values()]
    .map((template) => ({ name: template.name, classic: isClassic(template) }))
    .sort((a, b) => a.name.localeCompare(b.name));
