import { applyDecorators, HttpException, HttpStatus } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse } from '@nestjs/swagger';
import { z } from 'zod';
import type { Slice } from '#infra';
import { apiSchema } from './openapi-schema.js';
import { cursor, encodeCursor, limit } from './query-params.schema.js';

/** A list answer: `{"items": [...], "nextCursor": string|null}`; pass `nextCursor` back as `cursor` for the next page. */
export type Page<T> = Readonly<{ items: T[]; nextCursor: string | null }>;

/** A read model's slice as an answer: the cursor is the sort key of its last item when there is more. */
export function pageOf<R, T>({ items, more }: Slice<R>, view: (row: R) => T, keyOf: (row: R) => (string | number)[]): Page<T> {
  return { items: items.map(view), nextCursor: more && items.length > 0 ? encodeCursor(keyOf(items.at(-1)!)) : null };
}

/** The schema of a list answer, named after its items (`FunctionPage`, ...). */
export const PageDto = (item: z.ZodType, name: string) =>
  z
    .object({
      items: z.array(item),
      nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
    })
    .meta({ id: name });

/** The body of every 4xx answer. */
export const ErrorDto = z.object({ message: z.string().describe('What is wrong, naming the parameter.') }).meta({ id: 'ErrorDto' });

/** A 4xx answer of the OpenAPI document, with what it means here. */
export const errorAnswer = (description?: string) => ({
  schema: apiSchema(ErrorDto),
  ...(description === undefined ? {} : { description }),
});

/** The `limit` and `cursor` parameters of a list whose cursor is a key `isKey` accepts; spread into the route's query schema. */
export const pageParams = <K>(isKey: (key: unknown) => key is K) => ({ limit, cursor: cursor(isKey) });

/** A list route's answer, for the OpenAPI document (its parameters come from the route's query schema). */
export const ApiPage = (page: z.ZodType) =>
  applyDecorators(
    ApiOkResponse({ schema: apiSchema(page) }),
    ApiBadRequestResponse(errorAnswer('A parameter is malformed; the message names it')),
  );

export const notFound = (message: string) => new HttpException({ message }, HttpStatus.NOT_FOUND);

/** A route that answers 404 for an unknown name or id, and 400 for a malformed one. */
export const ApiNotFound = () =>
  applyDecorators(
    ApiNotFoundResponse(errorAnswer('Nothing by that name or id')),
    ApiBadRequestResponse(errorAnswer('A parameter is malformed; the message names it')),
  );
