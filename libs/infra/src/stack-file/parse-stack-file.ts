import { FAILSAFE_SCHEMA, load, mergeTag, nullCoreTag, YAMLException } from 'js-yaml';
import type { ResourceQuantities, StackFile, StackFunction, TemplateSource } from '#domain';

/**
 * Strings, sequences and mappings only, like Go's `map[string]string` sees YAML: every scalar keeps the text
 * it was written with (`6379`, `on`, `1.0`), `~`/`null`/empty is the empty string, and `<<` merges work as in
 * yaml.v3. No custom tags, so nothing in a stack file can construct anything but plain data.
 */
const STACK_SCHEMA = FAILSAFE_SCHEMA.withTags(mergeTag, nullCoreTag);

export type ParsedStackFile = Readonly<{ ok: true; stack: StackFile }> | Readonly<{ ok: false; reason: string }>;

class StackShapeError extends Error {}

/**
 * faas-cli's parse of a stack file: `${VAR}` and `${VAR:-default}` substituted first (from `variables` only:
 * the server's own environment never reaches a user's stack file), then YAML with duplicate keys refused.
 */
export function parseStackFile(text: string, fileName: string, variables: Readonly<Record<string, string>> = {}): ParsedStackFile {
  let document: unknown;
  try {
    document = load(substituteVariables(text, variables), { schema: STACK_SCHEMA, filename: fileName });
  } catch (error) {
    if (error instanceof YAMLException) {
      const where = error.mark ? ` at line ${error.mark.line + 1}` : '';
      return { ok: false, reason: `${fileName} is not valid YAML${where}: ${error.reason}` };
    }
    throw error;
  }
  try {
    return { ok: true, stack: toStackFile(document) };
  } catch (error) {
    if (error instanceof StackShapeError) return { ok: false, reason: `${fileName}: ${error.message}` };
    throw error;
  }
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g;

/** drone/envsubst's braced forms, as faas-cli applies them; an unset variable without a default is empty. */
export function substituteVariables(text: string, variables: Readonly<Record<string, string>>): string {
  return text.replace(VARIABLE, (whole, name: string, fallback: string | undefined) => {
    const value = Object.hasOwn(variables, name) ? variables[name]! : undefined;
    if (whole.includes(':-')) return value === undefined || value === '' ? (fallback ?? '') : value;
    if (fallback !== undefined) return value ?? fallback;
    return value ?? '';
  });
}

type Node = unknown;
const isMap = (node: Node): node is Record<string, Node> => typeof node === 'object' && node !== null && !Array.isArray(node);

function toStackFile(document: Node): StackFile {
  if (!isMap(document)) throw new StackShapeError('the file must be a mapping with provider and functions');
  const provider = optionalMap(document.provider, 'provider');
  const functions = optionalMap(document.functions, 'functions');
  const configuration = optionalMap(document.configuration, 'configuration');
  return {
    version: document.version === undefined || document.version === null ? null : string(document.version, 'version'),
    provider: { name: string(provider.name, 'provider.name'), gateway: optionalString(provider.gateway, 'provider.gateway') },
    functions: Object.entries(functions).map(([key, node]) => toFunction(key, node)),
    configuration: {
      templates: list(configuration.templates, 'configuration.templates').map((node, index) => toTemplate(node, index)),
      copy: stringList(configuration.copy, 'configuration.copy'),
    },
  };
}

function toFunction(key: string, node: Node): StackFunction {
  const at = (field: string) => `functions.${key}.${field}`;
  const fn = optionalMap(node, `functions.${key}`);
  return {
    key,
    lang: string(fn.lang, at('lang')),
    handler: string(fn.handler, at('handler')),
    image: string(fn.image, at('image')),
    fprocess: optionalString(fn.fprocess, at('fprocess')),
    environment: stringMap(fn.environment, at('environment')),
    environmentFiles: stringList(fn.environment_file, at('environment_file')),
    secrets: stringList(fn.secrets, at('secrets')),
    labels: stringMap(fn.labels, at('labels')),
    annotations: stringMap(fn.annotations, at('annotations')),
    limits: quantities(fn.limits, at('limits')),
    requests: quantities(fn.requests, at('requests')),
    buildArgs: stringMap(fn.build_args, at('build_args')),
    buildOptions: stringList(fn.build_options, at('build_options')),
    skipBuild: boolean(fn.skip_build, at('skip_build')) ?? false,
    readonlyRootFilesystem: boolean(fn.readonly_root_filesystem, at('readonly_root_filesystem')),
    constraints: stringList(fn.constraints, at('constraints')),
    namespace: optionalString(fn.namespace, at('namespace')),
    platforms: optionalString(fn.platforms, at('platforms')),
  };
}

function toTemplate(node: Node, index: number): TemplateSource {
  const template = optionalMap(node, `configuration.templates[${index}]`);
  return {
    name: string(template.name, `configuration.templates[${index}].name`),
    source: optionalString(template.source, `configuration.templates[${index}].source`),
  };
}

function quantities(node: Node, at: string): ResourceQuantities {
  const map = optionalMap(node, at);
  const memory = optionalString(map.memory, `${at}.memory`);
  const cpu = optionalString(map.cpu, `${at}.cpu`);
  return { ...(memory ? { memory } : {}), ...(cpu ? { cpu } : {}) };
}

function optionalMap(node: Node, at: string): Record<string, Node> {
  if (node === undefined || node === null) return {};
  if (!isMap(node)) throw new StackShapeError(`${at} must be a mapping`);
  return node;
}

function string(node: Node, at: string): string {
  return optionalString(node, at) ?? '';
}

function optionalString(node: Node, at: string): string | null {
  if (node === undefined || node === null) return null;
  if (typeof node !== 'string')
    throw new StackShapeError(`${at} must be a single value, not a ${Array.isArray(node) ? 'list' : 'mapping'}`);
  return node;
}

function list(node: Node, at: string): Node[] {
  if (node === undefined || node === null) return [];
  if (!Array.isArray(node)) throw new StackShapeError(`${at} must be a list`);
  return node;
}

const stringList = (node: Node, at: string): string[] => list(node, at).map((item, index) => string(item, `${at}[${index}]`));

function stringMap(node: Node, at: string): Record<string, string> {
  return Object.fromEntries(Object.entries(optionalMap(node, at)).map(([key, value]) => [key, string(value, `${at}.${key}`)]));
}

const TRUE = new Set(['true', 'True', 'TRUE', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'y', 'Y']);
const FALSE = new Set(['false', 'False', 'FALSE', 'no', 'No', 'NO', 'off', 'Off', 'OFF', 'n', 'N']);

/** yaml.v3 into a Go bool: YAML 1.2 and 1.1 spellings both count. */
function boolean(node: Node, at: string): boolean | null {
  const value = optionalString(node, at);
  if (value === null) return null;
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new StackShapeError(`${at} must be true or false, not "${value.slice(0, 20)}"`);
}

export type ParsedEnvironmentFile = Readonly<{ ok: true; environment: Record<string, string> }> | Readonly<{ ok: false; reason: string }>;

/** An `environment_file`: a YAML file with one `environment:` map, read with the stack file's rules. */
export function parseEnvironmentFile(text: string, fileName: string): ParsedEnvironmentFile {
  try {
    const document = load(text, { schema: STACK_SCHEMA, filename: fileName });
    return { ok: true, environment: stringMap(optionalMap(document, fileName).environment, `${fileName}: environment`) };
  } catch (error) {
    if (error instanceof YAMLException) return { ok: false, reason: `${fileName} is not valid YAML: ${error.reason}` };
    if (error instanceof StackShapeError) return { ok: false, reason: error.message };
    throw error;
  }
}
