import { HttpException, HttpStatus, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';

const badRequest = (message: string) => new HttpException({ message }, HttpStatus.BAD_REQUEST);

/**
 * Checks a route's query or path parameters, or its JSON body, against their zod schema: the first problem is a
 * 400 naming the parameter or field (`limit must be ...`), as a client reads it. Each of `once` (the query's
 * parameters) may be given once: `?x=1&x=2` is refused rather than silently taking one.
 */
export class ZodValidationPipe<Schema extends z.ZodType> implements PipeTransform<unknown, z.output<Schema>> {
  constructor(
    private readonly schema: Schema,
    private readonly once: readonly string[] = [],
  ) {}

  transform(received: unknown): z.output<Schema> {
    // No body (a DELETE, a POST without content) reads as an empty one: the schema says what must be in it.
    const value = received ?? {};
    for (const name of this.once) {
      const given = (value as Record<string, unknown>)[name];
      if (Array.isArray(given)) throw badRequest(`${name} is given ${given.length} times; give it once`);
    }
    const parsed = this.schema.safeParse(value);
    if (parsed.success) return parsed.data;
    throw badRequest(problem(parsed.error.issues[0]!));
  }
}

function problem(issue: z.core.$ZodIssue): string {
  if (issue.path.length === 0) {
    // A rule of the whole body (`give either buildId or sha`) says itself; zod's own words here are about JSON.
    if (issue.code === 'invalid_type') return 'the body must be a JSON object';
    if (issue.code === 'unrecognized_keys') return `the body has no field ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
    return issue.message;
  }
  // A message that reads as a label (`name: ...`) attaches to the name; any other follows it after a space.
  return `${issue.path.join('.')}${issue.message.startsWith(':') ? '' : ' '}${issue.message}`;
}
