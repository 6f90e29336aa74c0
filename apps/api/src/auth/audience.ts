import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import type { Audience } from '#infra';
import { isAdmin } from './admin.guard.js';
import { ADMIN_SCHEME } from './api-admin.js';

export type { Audience };

export const audienceOf = (authorization: string | undefined, adminToken: string): Audience =>
  isAdmin(authorization, adminToken) ? 'admin' : 'anyone';

export const PRIVATE_NOTE =
  'Functions, builds and pushes of private repositories are answered only with `Authorization: Bearer <ADMIN_TOKEN>`.';

/** Documents the optional admin bearer of a public read route: none, or `Bearer <ADMIN_TOKEN>` to see private repositories too. */
export const ApiAudience = () => applyDecorators(ApiSecurity({}), ApiBearerAuth(ADMIN_SCHEME));
