// The read API's answers as the CLI uses them (see INTERFACE.md), and reading a whole list page by page.
import { ApiError, CliError, type CliContext } from '../cli-context.js';

export type FunctionView = {
  name: string;
  owner: string;
  repo: string;
  function: string;
  image: string | null;
  sha: string;
  branch: string | null;
  status: 'building' | 'deploying' | 'ready' | 'failed' | 'removed';
  endpoint: string | null;
  deployedAt: string | null;
  reason: string | null;
};

export type BuildView = {
  id: string;
  name: string;
  owner: string;
  repo: string;
  sha: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'reused' | 'superseded';
  image: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  reason: string | null;
  deliveryId: string;
  reusedBuildId: string | null;
};

export type PushView = {
  deliveryId: string;
  owner: string;
  repo: string;
  sha: string;
  ref: string | null;
  branch: string | null;
  receivedAt: string | null;
  outcome: 'pending' | 'deployed' | 'failed' | 'ignored';
  reason: string | null;
};

export type Page<T> = { items: T[]; nextCursor: string | null };

/** Read routes are public (private repositories need a token): without any token the CLI asks anonymously. */
export function readToken(cli: CliContext): string | null {
  try {
    return cli.token();
  } catch (error) {
    if (error instanceof CliError) return null;
    throw error;
  }
}

/** Every item of a list route, following `nextCursor`. */
export async function allPages<T>(cli: CliContext, url: string, token: string | null): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await cli.call<Page<T>>(
      'GET',
      `${url}${url.includes('?') ? '&' : '?'}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token },
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** The answer of a call, or null when it is a 404 (the caller says what was not found, in its own words). */
export async function unlessNotFound<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export const short = (sha: string) => sha.slice(0, 7);

/** A status word in colour: green when good, red when failed, dim when gone. */
export function statusColour(cli: CliContext, status: string): string {
  if (['ready', 'succeeded', 'deployed', 'reused'].includes(status)) return cli.colour.ok(status);
  if (['failed'].includes(status)) return cli.colour.fail(status);
  if (['removed', 'superseded', 'ignored'].includes(status)) return cli.colour.dim(status);
  return status;
}
