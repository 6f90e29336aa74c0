import { z } from 'zod';
import { eventTypes, listedFunctionNameProblem } from '#domain';

/**
 * Query and path parameters of the read api, one schema per kind, composed per route with `z.object`. Every
 * message follows the parameter's name (ZodValidationPipe puts it in front): a 400 names the parameter and what
 * is wrong. ValidQuery and ValidPath also document them in the OpenAPI document, so each parameter is written once.
 */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

/** A string the parameter's check accepts; anything else is a 400 with `message(value)`. */
const checked = (isValid: (value: string) => boolean, message: (value: string) => string) =>
  z.string().refine(isValid, { error: (issue) => message(String(issue.input)) });

const WHOLE = /^\d+$/;

export const limit = checked(
  (value) => WHOLE.test(value) && Number(value) >= 1 && Number(value) <= MAX_LIMIT,
  (value) => `must be a whole number from 1 to ${MAX_LIMIT}, not "${value}"`,
)
  .transform(Number)
  .pipe(z.int().min(1).max(MAX_LIMIT))
  .default(DEFAULT_LIMIT);

/**
 * Keyset pagination: a cursor is the sort key of the last item of a page, as base64url JSON. Opaque to clients;
 * each list checks the shape it expects, so a cursor from another list or a forged one is a 400, never a scan.
 */
export const encodeCursor = (key: readonly (string | number)[]): string => Buffer.from(JSON.stringify(key)).toString('base64url');

export const cursor = <K>(isKey: (key: unknown) => key is K) =>
  z
    .string()
    .transform((value, context): K => {
      const key = decodeKey(value);
      if (isKey(key)) return key;
      context.addIssue({
        code: 'custom',
        input: value,
        message: 'is not a cursor of this list: pass back the nextCursor of a previous page unchanged',
      });
      return z.NEVER;
    })
    .optional()
    .describe('The nextCursor of the previous page');

function decodeKey(value: string): unknown {
  try {
    return /^[A-Za-z0-9_-]+$/.test(value) ? JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) : undefined;
  } catch {
    return undefined;
  }
}

/** A cursor key that is one position (a positive whole number) then `strings` strings. */
export const positionKey =
  <Strings extends string[] = []>(strings = 0) =>
  (key: unknown): key is [number, ...Strings] =>
    Array.isArray(key) &&
    key.length === 1 + strings &&
    Number.isSafeInteger(key[0]) &&
    key[0] > 0 &&
    key.slice(1).every((part) => typeof part === 'string');

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** An instant: an ISO 8601 date (`2026-11-30`, midnight UTC) or date and time with `Z` or an offset. */
export const instant = z
  .string()
  .meta({ format: 'date-time' })
  // An unencoded `+01:00` offset arrives as ` 01:00` (a `+` in a query string is a space).
  .transform((value) => value.replace(/ (\d{2}:\d{2})$/, '+$1'))
  .pipe(
    checked(
      (value) => ISO_INSTANT.test(value) && !Number.isNaN(new Date(value).getTime()),
      (value) => `must be an ISO 8601 date or date-time with a time zone (e.g. 2026-11-30T12:00:00Z), not "${value}"`,
    ),
  )
  .transform((value) => new Date(value));

export const eventType = z
  .enum(eventTypes, { error: (issue) => `must be one of ${eventTypes.join(', ')}; "${String(issue.input)}" is not an event type` })
  .meta({ id: 'EventType' });

/** GitHub logins: letters, digits and single hyphens, at most 39 characters. */
export const owner = checked(
  (value) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(value),
  (value) => `must be a GitHub user or organisation name (letters, digits and "-", at most 39), not "${value}"`,
).describe('GitHub owner (case-insensitive)');

/** GitHub repository names: letters, digits, `.`, `_` and `-`, at most 100 characters. */
export const repo = checked(
  (value) => /^[A-Za-z0-9._-]{1,100}$/.test(value),
  (value) => `must be a GitHub repository name (letters, digits, ".", "_" and "-", at most 100), not "${value}"`,
).describe('GitHub repository (case-insensitive)');

/** Free-text filters (actor, correlation id): anything printable up to 200 characters. */
export const text = z.string().min(1, { error: 'must be 1 to 200 characters' }).max(200, { error: 'must be 1 to 200 characters' });

/** A position in the event log. */
export const position = checked(
  (value) => WHOLE.test(value) && Number.isSafeInteger(Number(value)),
  () => 'must be a position (a whole number)',
)
  .transform(Number)
  .pipe(z.int().min(0));

/**
 * A function's OpenFaaS service name (`<owner>-<stack key>`), as a path parameter; or the listed name of a stack key
 * that makes none (refused at source, see listedFunctionName).
 */
const functionName = z.string().superRefine((value, context) => {
  const problem = listedFunctionNameProblem(value);
  if (problem) context.addIssue({ code: 'custom', input: value, message: `: ${problem}` });
});

/** Build ids are UUIDs today; anything id-like up to 128 characters is looked up. */
export const buildId = checked(
  (value) => /^[A-Za-z0-9._-]{1,128}$/.test(value),
  (value) => `must be a build id (letters, digits, ".", "_" and "-"), not "${value.slice(0, 140)}"`,
);

/** The `{name}` of the routes under `/api/v1/functions/{name}`. */
export const functionNamePath = z.object({ name: functionName.describe('OpenFaaS service name, e.g. alexellis-fn1') });
