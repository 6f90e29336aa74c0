/**
 * Who reads: an admin everything; anyone else only what comes from pushes of repositories known to be public
 * (`repository.private` false). Unknown is not public.
 */
export type Audience = 'admin' | 'anyone';

/** A page of a list read model: `more` says a next page exists (one row past `limit` was there). */
export type Slice<T> = Readonly<{ items: T[]; more: boolean }>;

/** `rows` were fetched with `limit + 1`: the extra row only says there is a next page. */
export const sliceOf = <T>(rows: readonly T[], limit: number): Slice<T> => ({ items: rows.slice(0, limit), more: rows.length > limit });

/** SQL: the push `delivery` (a column expression) was of a repository known to be public. */
export const publicPush = (delivery: string) =>
  `EXISTS (SELECT 1 FROM read_pushes vp WHERE vp.delivery_id = ${delivery} AND vp.private = false)`;

/**
 * SQL for a function row aliased `f`: the push behind its latest status (the build that set it) or else behind
 * its deployed version was public.
 */
export const publicFunction = publicPush(
  'COALESCE((SELECT sb.delivery_id FROM read_builds sb WHERE sb.id = f.status_build_id), f.delivery_id)',
);
