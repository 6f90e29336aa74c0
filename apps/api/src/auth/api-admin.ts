import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { errorAnswer } from '../queries/page.js';

/** The bearer scheme of admin routes in the OpenAPI document (see createApi). */
export const ADMIN_SCHEME = 'admin';

/** Documents what AdminGuard does: `Authorization: Bearer <ADMIN_TOKEN>`, 401 without it, 403 with a wrong one. */
export const ApiAdmin = () =>
  applyDecorators(
    ApiBearerAuth(ADMIN_SCHEME),
    ApiUnauthorizedResponse(errorAnswer('No bearer token and no session')),
    ApiForbiddenResponse(errorAnswer('Not the admin token, or a session that is not an admin’s (or without its CSRF token on a change)')),
  );
