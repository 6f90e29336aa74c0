import { applyDecorators, HttpException, HttpStatus, type Type } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiProperty } from '@nestjs/swagger';
import type { Slice } from '#infra';
import { cursor, encodeCursor, limit } from './query-params.schema.js';

/** A list answer: `{"items": [...], "nextCursor": string|null}`; pass `nextCursor` back as `cursor` for the next page. */
export type Page<T> = Readonly<{ items: T[]; nextCursor: string | null }>;

/** A read model's slice as an answer: the cursor is the sort key of its last item when there is more. */
export function pageOf<R, T>({ items, more }: Slice<R>, view: (row: R) => T, keyOf: (row: R) => (string | number)[]): Page<T> {
  return { items: items.map(view), nextCursor: more && items.length > 0 ? encodeCursor(keyOf(items.at(-1)!)) : null };
}

/** The OpenAPI class of a list answer, named after its items (`FunctionPage`, ...). */
export function PageDto<T>(item: Type<T>, name: string): Type<Page<T>> {
  class PageOfItems {
    @ApiProperty({ type: [item] }) items!: T[];
    @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page.' }) nextCursor!:
      string | null;
  }
  Object.defineProperty(PageOfItems, 'name', { value: name });
  return PageOfItems;
}

/** The body of every 4xx answer. */
export class ErrorDto {
  @ApiProperty({ description: 'What is wrong, naming the parameter.' }) message!: string;
}

/** The `limit` and `cursor` parameters of a list whose cursor is a key `isKey` accepts; spread into the route's query schema. */
export const pageParams = <K>(isKey: (key: unknown) => key is K) => ({ limit, cursor: cursor(isKey) });

/** A list route's answer, for the OpenAPI document (its parameters come from the route's query schema). */
export const ApiPage = (page: Type<unknown>) =>
  applyDecorators(
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
