import { HttpException, HttpStatus } from '@nestjs/common';
import { eventTypes, functionNameProblem, isEventType, type EventType } from '#domain';

/** Query and path parameters of the read api, checked one by one: a 400 names the parameter and what is wrong. */
export type RawParam = string | string[] | undefined;

export const badRequest = (message: string) => new HttpException({ message }, HttpStatus.BAD_REQUEST);

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** One value or none; `?x=1&x=2` is refused rather than silently taking one of them. */
export function single(name: string, raw: RawParam): string | undefined {
  if (Array.isArray(raw)) throw badRequest(`${name} is given ${raw.length} times; give it once`);
  return raw;
}

export function limitParam(raw: RawParam): number {
  const value = single('limit', raw);
  if (value === undefined) return DEFAULT_LIMIT;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_LIMIT) throw badRequest(`limit must be a whole number from 1 to ${MAX_LIMIT}, not "${value}"`);
  return Number(value);
}

/** An instant: an ISO 8601 date (`2026-11-30`, midnight UTC) or date and time with `Z` or an offset. */
export function instantParam(name: string, raw: RawParam): Date | undefined {
  // An unencoded `+01:00` offset arrives as ` 01:00` (a `+` in a query string is a space).
  const value = single(name, raw)?.replace(/ (\d{2}:\d{2})$/, '+$1');
  if (value === undefined) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value);
  const instant = new Date(value);
  if (!iso || Number.isNaN(instant.getTime())) throw badRequest(`${name} must be an ISO 8601 date or date-time with a time zone (e.g. 2026-11-30T12:00:00Z), not "${value}"`);
  return instant;
}

export function eventTypeParam(raw: RawParam): EventType | undefined {
  const value = single('type', raw);
  if (value === undefined) return undefined;
  if (!isEventType(value)) throw badRequest(`type must be one of ${eventTypes.join(', ')}; "${value}" is not an event type`);
  return value;
}

/** A function's OpenFaaS service name (`<owner>-<stack key>`). */
export function functionNameParam(raw: string): string {
  const problem = functionNameProblem(raw);
  if (problem) throw badRequest(`name: ${problem}`);
  return raw;
}

/** GitHub logins: letters, digits and single hyphens, at most 39 characters. */
export function ownerParam(name: string, raw: RawParam): string | undefined {
  const value = single(name, raw);
  if (value !== undefined && !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(value)) throw badRequest(`${name} must be a GitHub user or organisation name (letters, digits and "-", at most 39), not "${value}"`);
  return value;
}

/** GitHub repository names: letters, digits, `.`, `_` and `-`, at most 100 characters. */
export function repoParam(name: string, raw: RawParam): string | undefined {
  const value = single(name, raw);
  if (value !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(value)) throw badRequest(`${name} must be a GitHub repository name (letters, digits, ".", "_" and "-", at most 100), not "${value}"`);
  return value;
}

/** Free-text filters (actor, correlation id): anything printable up to 200 characters. */
export function textParam(name: string, raw: RawParam): string | undefined {
  const value = single(name, raw);
  if (value !== undefined && (value.length === 0 || value.length > 200)) throw badRequest(`${name} must be 1 to 200 characters`);
  return value;
}

/** Build ids are UUIDs today; anything id-like up to 128 characters is looked up. */
export function buildIdParam(raw: string): string {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(raw)) throw badRequest(`id must be a build id (letters, digits, ".", "_" and "-"), not "${raw.slice(0, 140)}"`);
  return raw;
}
