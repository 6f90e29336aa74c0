import pRetry from 'p-retry';

/** Exponential backoff: `baseMs` after the first failure, doubled after each further one, never over `maxMs`. */
export type Backoff = Readonly<{ baseMs: number; maxMs: number }>;

/** The wait after `failures` failures in a row (0: after the first). */
export const backoffDelay = ({ baseMs, maxMs }: Backoff, failures: number): number => Math.min(maxMs, baseMs * 2 ** failures);

/**
 * Runs `work` until it succeeds, `retries` more times at most, waiting `backoffDelay` between tries. An error
 * `isFinal` says retrying cannot help (a 4xx) is thrown at once, and so is the signal's reason once it aborts
 * (shutdown): nothing waits out a backoff then.
 */
export function retrying<T>(
  work: (attempt: number) => Promise<T>,
  options: Readonly<{ retries: number; backoff: Backoff; isFinal?: (error: Error) => boolean; signal?: AbortSignal }>,
): Promise<T> {
  return pRetry(work, {
    retries: options.retries,
    factor: 2,
    minTimeout: options.backoff.baseMs,
    maxTimeout: options.backoff.maxMs,
    randomize: false,
    unref: true,
    shouldRetry: ({ error }) => !options.isFinal?.(error),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
