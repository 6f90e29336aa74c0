import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import { isAdmin } from '../auth/admin.guard.js';
import { ADMIN_SCHEME } from '../auth/api-admin.js';

/**
 * Who reads: with `Bearer <ADMIN_TOKEN>` everything; anyone else only what comes from pushes of repositories
 * known to be public (`repository.private` false). A wrong or missing token reads as anyone else.
 */
export type Audience = 'admin' | 'anyone';

export const audienceOf = (authorization: string | undefined, adminToken: string): Audience => (isAdmin(authorization, adminToken) ? 'admin' : 'anyone');

/** SQL: the push `delivery` (a column expression) was of a repository known to be public. Unknown is not public. */
export const publicPush = (delivery: string) => `EXISTS (SELECT 1 FROM read_pushes vp WHERE vp.delivery_id = ${delivery} AND vp.private = false)`;

/**
 * SQL for a function row aliased `f`: the push behind its latest status (the build that set it) or else behind
 * its deployed version was public.
 */
export const publicFunction = publicPush('COALESCE((SELECT sb.delivery_id FROM read_builds sb WHERE sb.id = f.status_build_id), f.delivery_id)');

export const PRIVATE_NOTE = 'Functions, builds and pushes of private repositories are answered only with `Authorization: Bearer <ADMIN_TOKEN>`.';

/** Documents the optional admin bearer of a public read route: none, or `Bearer <ADMIN_TOKEN>` to see private repositories too. */
export const ApiAudience = () => applyDecorators(ApiSecurity({}), ApiBearerAuth(ADMIN_SCHEME));
