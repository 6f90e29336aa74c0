import { HttpException, HttpStatus, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';

const badRequest = (message: string) => new HttpException({ message }, HttpStatus.BAD_REQUEST);

/**
 * Checks a route's query or path parameters against their zod object: the first problem is a 400 naming the
 * parameter (`limit must be ...`), as a client reads it. `?x=1&x=2` is refused rather than silently taking one.
 */
export class ZodValidationPipe<Schema extends z.ZodObject> implements PipeTransform<Record<string, unknown>, z.output<Schema>> {
  constructor(private readonly schema: Schema) {}

  transform(parameters: Record<string, unknown>): z.output<Schema> {
    for (const name of Object.keys(this.schema.shape)) {
      const value = parameters[name];
      if (Array.isArray(value)) throw badRequest(`${name} is given ${value.length} times; give it once`);
    }
    const parsed = this.schema.safeParse(parameters);
    if (parsed.success) return parsed.data;
    const [issue] = parsed.error.issues;
    const message = issue!.message;
    // A message that reads as a label (`name: ...`) attaches to the name; any other follows it after a space.
    throw badRequest(`${issue!.path.join('.')}${message.startsWith(':') ? '' : ' '}${message}`);
  }
}
