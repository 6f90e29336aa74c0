import { retrying } from '../retry/backoff.js';

/** The headers of a report to GitHub's REST API with an installation token or GITHUB_TOKEN. */
export const githubHeaders = (token: string) => ({ authorization: `token ${token}`, 'x-github-api-version': '2022-11-28' });

/**
 * Runs `send` until GitHub takes the report: server errors and network failures are retried with backoff, a 4xx is
 * final (retrying cannot change GitHub's mind). A report GitHub never took resolves with `undelivered(detail)`, as a
 * report is recorded either way; on shutdown (`signal`) it throws instead, so the report is left undone.
 */
export async function reportToGitHub<T>(
  send: () => Promise<T>,
  undelivered: (detail: string) => T,
  options: Readonly<{ retries: number; backoffMs: number; signal?: AbortSignal | undefined }>,
): Promise<T> {
  const { retries, backoffMs, signal } = options;
  try {
    return await retrying(send, {
      retries,
      backoff: { baseMs: backoffMs, maxMs: Number.POSITIVE_INFINITY },
      isFinal: (error) => isClientError(statusOf(error)),
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    return undelivered(`GitHub answered ${statusOf(error) || 'nothing'}: ${(error as Error).message.slice(0, 200)}`);
  }
}

const statusOf = (error: unknown): number => (error as { status?: number }).status ?? 0;
const isClientError = (code: number) => code >= 400 && code < 500;
