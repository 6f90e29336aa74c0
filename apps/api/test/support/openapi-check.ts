/**
 * Checks an answer against the OpenAPI document the api serves, strictly: every documented property present
 * (documents mark them all required), no undocumented property, enums, nullability, integers and date-times.
 * The document and the answers cannot drift apart unnoticed.
 */
export type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  nullable?: boolean;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
};
type Operation = {
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
  parameters?: { name: string; in: string }[];
  security?: Record<string, string[]>[];
  description?: string;
};
export type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes?: Record<string, unknown> };
};

export function resolve(document: OpenApiDocument, schema: Schema): Schema {
  return schema.$ref ? resolve(document, document.components.schemas[schema.$ref.split('/').at(-1)!]!) : schema;
}

/** The first way `value` differs from `schema`, or null. */
export function violation(document: OpenApiDocument, value: unknown, schema: Schema, at = 'body'): string | null {
  if (schema.$ref) return violation(document, value, resolve(document, schema), at);
  if (value === null)
    return schema.nullable || schema.allOf?.some((part) => resolve(document, part).nullable)
      ? null
      : `${at} is null, the document does not allow it`;
  if (schema.allOf) return schema.allOf.map((part) => violation(document, value, part, at)).find(Boolean) ?? null;
  if (schema.enum && !schema.enum.includes(value)) return `${at} is ${JSON.stringify(value)}, not one of ${schema.enum.join(', ')}`;
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return `${at} must be a string`;
      if (schema.format === 'date-time' && new Date(value).toISOString() !== value) return `${at} must be an ISO date-time, not ${value}`;
      return null;
    case 'integer':
      return Number.isSafeInteger(value) ? null : `${at} must be an integer`;
    case 'number':
      return typeof value === 'number' ? null : `${at} must be a number`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `${at} must be a boolean`;
    case 'array':
      if (!Array.isArray(value)) return `${at} must be an array`;
      return value.map((item, i) => violation(document, item, schema.items ?? {}, `${at}[${i}]`)).find(Boolean) ?? null;
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return `${at} must be an object`;
      const record = value as Record<string, unknown>;
      for (const key of schema.required ?? []) if (!(key in record)) return `${at}.${key} is documented as required but missing`;
      for (const [key, item] of Object.entries(record)) {
        if (!schema.properties?.[key] && schema.additionalProperties === true) continue; // free-form: anything goes
        const property = schema.properties?.[key] ?? (schema.additionalProperties === true ? undefined : schema.additionalProperties);
        if (!property) return `${at}.${key} is not in the document`;
        const problem = violation(document, item, property, `${at}.${key}`);
        if (problem) return problem;
      }
      return null;
    }
    default:
      return schema.type === undefined && !schema.enum ? `${at}: the document gives no type` : null;
  }
}

/** Objects whose documented properties are not all required: a field the answers may silently drop. */
export function optionalProperties(document: OpenApiDocument, schema: Schema, at = 'body', seen = new Set<Schema>()): string[] {
  const resolved = resolve(document, schema);
  if (seen.has(resolved)) return [];
  seen.add(resolved);
  const nested = [...(resolved.allOf ?? []), ...(resolved.items ? [resolved.items] : []), ...Object.values(resolved.properties ?? {})];
  const own = Object.keys(resolved.properties ?? {})
    .filter((key) => !(resolved.required ?? []).includes(key))
    .map((key) => `${at}.${key}`);
  return [...own, ...nested.flatMap((part) => optionalProperties(document, part, at, seen))];
}

/** The operation of `document` that serves `method` + concrete `path` (path templates like `/a/{name}` match one segment). */
export function operationFor(document: OpenApiDocument, method: string, path: string): { template: string; operation: Operation } | null {
  const bare = path.split('?')[0]!;
  for (const [template, operations] of Object.entries(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const operation = operations[method.toLowerCase()];
    if (operation && pattern.test(bare)) return { template, operation };
  }
  return null;
}

/** Why an answer (status and JSON body) is not what the document says that route answers, or null. */
export function answerViolation(document: OpenApiDocument, method: string, path: string, status: number, body: unknown): string | null {
  const found = operationFor(document, method, path);
  if (!found) return `${method} ${path} is not in the document`;
  const response = found.operation.responses[String(status)];
  if (!response) return `${method} ${found.template} answered ${status}, which the document does not list`;
  const schema = response.content?.['application/json']?.schema;
  if (!schema) return `${method} ${found.template} ${status} has no JSON schema in the document`;
  return violation(document, body, schema, `${method} ${found.template} ${status}`);
}
