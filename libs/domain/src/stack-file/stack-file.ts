import type { ResourceQuantities } from '../events.js';

/**
 * A stack file as faas-cli reads it (openfaas/go-sdk `stack` package): every map value is a string, exactly as
 * written (`6379` → "6379", `on` stays "on"), because the Go types are `map[string]string`.
 */
export type StackFunction = Readonly<{
  key: string;
  lang: string;
  handler: string;
  image: string;
  fprocess: string | null;
  environment: Readonly<Record<string, string>>;
  environmentFiles: readonly string[];
  secrets: readonly string[];
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  limits: ResourceQuantities;
  requests: ResourceQuantities;
  buildArgs: Readonly<Record<string, string>>;
  buildOptions: readonly string[];
  skipBuild: boolean;
  readonlyRootFilesystem: boolean | null;
  constraints: readonly string[];
  namespace: string | null;
  platforms: string | null;
}>;

export type TemplateSource = Readonly<{ name: string; source: string | null }>;

export type StackFile = Readonly<{
  version: string | null;
  provider: Readonly<{ name: string; gateway: string | null }>;
  functions: readonly StackFunction[];
  configuration: Readonly<{ templates: readonly TemplateSource[]; copy: readonly string[] }>;
}>;

/** The stack file names faas-cli looks for, in its order (stack.yaml first since 2025). */
export const STACK_FILE_NAMES = ['stack.yaml', 'stack.yml'] as const;

/** Provider names a stack file may declare: `faas` was faas-cli's until 2019 and many OpenFaaS Cloud repos keep it. */
export const PROVIDER_NAMES = ['openfaas', 'faas'] as const;

/**
 * A path written in a stack file, as a normalised path relative to the repository root, or null when it is
 * absolute or climbs out of the repository through `..`. Symlinks are the file system's to check.
 */
export function repositoryPath(written: string): string | null {
  if (written.startsWith('/') || written.startsWith('\\') || /^[A-Za-z]:/.test(written) || written.includes('\0')) return null;
  const segments: string[] = [];
  for (const segment of written.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) return null;
      segments.pop();
    } else segments.push(segment);
  }
  return segments.length === 0 ? '.' : segments.join('/');
}
