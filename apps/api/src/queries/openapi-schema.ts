import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

const named: Record<string, SchemaObject> = {};

/**
 * The OpenAPI schema of a zod schema: of what the client sends (`input`) or what it receives (`output`). A schema
 * with `.meta({ id })` becomes a `$ref` to a component of that name, kept for namedSchemas, so every route that
 * answers a `BuildDto` or filters by an `EventType` points at one definition.
 */
export function apiSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): SchemaObject {
  const converted = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    override: ({ jsonSchema }) => {
      // Any value, said as OpenAPI tools read a free-form object (zod says `{}`).
      if (isEmpty(jsonSchema.additionalProperties)) jsonSchema.additionalProperties = true;
    },
  });
  // zod refers to the named schemas it lifted out as `#/definitions/<id>`; the document keeps them as components.
  const { definitions = {}, ...root } = JSON.parse(JSON.stringify(converted).replaceAll('"#/definitions/', '"#/components/schemas/')) as {
    definitions?: Record<string, SchemaObject>;
  } & SchemaObject;
  Object.assign(named, definitions);
  // An optional or transformed named schema is, to a client, that schema.
  const { allOf, ...rest } = root;
  return allOf?.length === 1 && Object.keys(rest).length === 0 ? (allOf[0] as SchemaObject) : root;
}

const isEmpty = (value: unknown) => typeof value === 'object' && value !== null && Object.keys(value).length === 0;

/** Every named schema the routes' decorators met, for the document's `components.schemas`. */
export const namedSchemas = (): Readonly<Record<string, SchemaObject>> => named;

/** An instant in an answer: ISO 8601 in UTC, as `Date.toISOString` writes it. */
export const dateTime = z.string().meta({ format: 'date-time' });
