import { applyDecorators, Body, Param, Query } from '@nestjs/common';
import { ApiBody, ApiParam, ApiQuery, type SchemaObject } from '@nestjs/swagger';
import type { z } from 'zod';
import { apiSchema } from './openapi-schema.js';
import { ZodValidationPipe } from './zod-validation.pipe.js';

type Where = 'query' | 'path';

/**
 * A route's query (`@ValidQuery`) or path (`@ValidPath`) parameters, or its JSON body (`@ValidBody`): checked by
 * their zod schema and documented from it in the OpenAPI document, so each parameter and field is written once.
 */
export const ValidQuery = (schema: z.ZodObject): ParameterDecorator => validParameters('query', schema);
export const ValidPath = (schema: z.ZodObject): ParameterDecorator => validParameters('path', schema);

export const ValidBody =
  (schema: z.ZodType): ParameterDecorator =>
  (target, method, index) => {
    Body(new ZodValidationPipe(schema))(target, method, index);
    // Optional when no body at all (read as `{}`) passes, like an optional reason.
    ApiBody({ schema: apiSchema(schema, 'input'), required: !schema.safeParse({}).success })(target, method!, routeOf(target, method!));
  };

const validParameters =
  (where: Where, schema: z.ZodObject): ParameterDecorator =>
  (target, method, index) => {
    (where === 'query' ? Query : Param)(new ZodValidationPipe(schema, Object.keys(schema.shape)))(target, method, index);
    ApiParams(where, schema)(target, method!, routeOf(target, method!));
  };

// Swagger keeps parameters and bodies on the route's method, which a parameter decorator reaches through its prototype.
const routeOf = (target: object, method: string | symbol) => Object.getOwnPropertyDescriptor(target, method)!;

/**
 * A parameter is documented by the value the route receives (`limit` an integer from 1 to 500) unless that is no
 * JSON (a decoded cursor, a Date): then by what the client sends.
 */
const ApiParams = (where: Where, schema: z.ZodObject) =>
  applyDecorators(
    ...Object.entries(schema.shape).map(([name, field]) => {
      const { description, ...json } = parameterSchema(field);
      const required = !field.safeParse(undefined).success;
      const options = { name, required, ...(description === undefined ? {} : { description }), schema: json };
      return where === 'query' ? ApiQuery(options) : ApiParam(options);
    }),
  );

function parameterSchema(field: z.ZodType): SchemaObject {
  try {
    return apiSchema(field, 'output');
  } catch {
    return apiSchema(field, 'input');
  }
}
