import { applyDecorators, Param, Query } from '@nestjs/common';
import { ApiParam, ApiQuery } from '@nestjs/swagger';
import { z } from 'zod';
import { ZodValidationPipe } from './zod-validation.pipe.js';

type JsonSchema = Record<string, unknown> & { $ref?: string; $defs?: Record<string, { enum?: string[] }>; description?: string };
type Where = 'query' | 'path';

/**
 * A route's query (`@ValidQuery`) or path (`@ValidPath`) parameters: checked by their zod object and documented
 * from it in the OpenAPI document, so each parameter is written once.
 */
export const ValidQuery = (schema: z.ZodObject): ParameterDecorator => validParameters('query', schema);
export const ValidPath = (schema: z.ZodObject): ParameterDecorator => validParameters('path', schema);

const validParameters =
  (where: Where, schema: z.ZodObject): ParameterDecorator =>
  (target, method, index) => {
    (where === 'query' ? Query : Param)(new ZodValidationPipe(schema))(target, method, index);
    // Swagger keeps parameters on the route's method, which a parameter decorator reaches through its prototype.
    const route = Object.getOwnPropertyDescriptor(target, method!)!;
    ApiParams(where, schema)(target, method!, route);
  };

/**
 * A parameter is documented by the value the route receives (`limit` an integer from 1 to 500) unless that is no
 * JSON (a decoded cursor, a Date): then by what the client sends.
 */
const ApiParams = (where: Where, schema: z.ZodObject) =>
  applyDecorators(
    ...Object.entries(schema.shape).map(([name, field]) => {
      const { $schema: _, $ref, $defs, description, ...json } = jsonSchemaOf(field);
      const required = !field.safeParse(undefined).success;
      const common = { name, required, ...(description === undefined ? {} : { description }) };
      const named = $ref?.replace('#/$defs/', '');
      // A named enum becomes one component schema (`EventType`) that every route refers to.
      const options = named && $defs?.[named]?.enum ? { ...common, enum: $defs[named].enum, enumName: named } : { ...common, schema: json };
      return where === 'query' ? ApiQuery(options) : ApiParam(options);
    }),
  );

function jsonSchemaOf(field: z.ZodType): JsonSchema {
  try {
    return z.toJSONSchema(field, { io: 'output' }) as JsonSchema;
  } catch {
    return z.toJSONSchema(field, { io: 'input' }) as JsonSchema;
  }
}
