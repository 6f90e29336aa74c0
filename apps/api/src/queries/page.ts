import { applyDecorators, HttpException, HttpStatus, type Type } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiProperty, ApiQuery } from '@nestjs/swagger';
import { badRequest, DEFAULT_LIMIT, MAX_LIMIT, single, type RawParam } from './query-params.js';

/** A list answer: `{"items": [...], "nextCursor": string|null}`; pass `nextCursor` back as `cursor` for the next page. */
export type Page<T> = Readonly<{ items: T[]; nextCursor: string | null }>;

/**
 * Keyset pagination: a cursor is the sort key of the last item of a page, as base64url JSON. Opaque to clients;
 * each list checks the shape it expects, so a cursor from another list or a forged one is a 400, never a scan.
 */
export const encodeCursor = (key: readonly (string | number)[]): string => Buffer.from(JSON.stringify(key)).toString('base64url');

export function decodeCursor<K>(raw: RawParam, isKey: (key: unknown) => key is K): K | undefined {
  const value = single('cursor', raw);
  if (value === undefined) return undefined;
  let key: unknown;
  try {
    key = /^[A-Za-z0-9_-]+$/.test(value) ? JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) : undefined;
  } catch {
    key = undefined;
  }
  if (!isKey(key)) throw badRequest('cursor is not a cursor of this list: pass back the nextCursor of a previous page unchanged');
  return key;
}

/** A cursor key that is one position (a positive whole number) then `rest` strings. */
export const positionKey =
  (strings = 0) =>
  (key: unknown): key is [number, ...string[]] =>
    Array.isArray(key) && key.length === 1 + strings && Number.isSafeInteger(key[0]) && key[0] > 0 && key.slice(1).every((part) => typeof part === 'string');

/** `rows` were fetched with `limit + 1`: the extra row only says there is a next page. */
export function pageOf<R, T>(rows: readonly R[], limit: number, view: (row: R) => T, keyOf: (row: R) => (string | number)[]): Page<T> {
  const items = rows.slice(0, limit);
  return { items: items.map(view), nextCursor: rows.length > limit ? encodeCursor(keyOf(items.at(-1)!)) : null };
}

/** The OpenAPI class of a list answer, named after its items (`FunctionPage`, ...). */
export function PageDto<T>(item: Type<T>, name: string): Type<Page<T>> {
  class PageOfItems {
    @ApiProperty({ type: [item] }) items!: T[];
    @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page.' }) nextCursor!: string | null;
  }
  Object.defineProperty(PageOfItems, 'name', { value: name });
  return PageOfItems;
}

/** The body of every 4xx answer. */
export class ErrorDto {
  @ApiProperty({ description: 'What is wrong, naming the parameter.' }) message!: string;
}

/** A list route's answer and its `limit` and `cursor` parameters, for the OpenAPI document. */
export const ApiPage = (page: Type<unknown>) =>
  applyDecorators(
    ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT } }),
    ApiQuery({ name: 'cursor', required: false, type: String, description: 'The nextCursor of the previous page' }),
    ApiOkResponse({ type: page }),
    ApiBadRequestResponse({ type: ErrorDto, description: 'A parameter is malformed; the message names it' }),
  );

export const notFound = (message: string) => new HttpException({ message }, HttpStatus.NOT_FOUND);

/** A route that answers 404 for an unknown name or id, and 400 for a malformed one. */
export const ApiNotFound = () =>
  applyDecorators(
    ApiNotFoundResponse({ type: ErrorDto, description: 'Nothing by that name or id' }),
    ApiBadRequestResponse({ type: ErrorDto, description: 'A parameter is malformed; the message names it' }),
  );
