import { z } from 'zod';
import { dateTime } from '../queries/openapi-schema.js';

const signInMode = z
  .enum(['github', 'local', 'off'])
  .describe(
    'How this server signs people in: `github` (GitHub OAuth), `local` (no OAuth settings on a loopback-only install: the browser on this machine gets an admin session), `off` (tokens only)',
  )
  .meta({ id: 'SignInMode' });

export const MeDto = z
  .object({
    login: z.string().nullable().describe('The GitHub login; `admin` for the admin token; null for the local session and an owner token'),
    admin: z.boolean().describe('Sees and manages everything: the admin token, ADMIN_LOGINS, or the local session'),
    owners: z
      .array(z.string())
      .describe('The owners whose things the caller manages: the login and its organisations, or the owner of a token'),
    via: z.enum(['session', 'admin-token', 'owner-token']),
    signIn: signInMode,
    csrfToken: z
      .string()
      .nullable()
      .describe('Send as `X-CSRF-Token` with every POST, PUT, PATCH and DELETE of this session; null for tokens'),
    expiresAt: dateTime.nullable().describe('When the session ends; null for tokens'),
    note: z.string().nullable().describe('What a page should say about how the caller got in (the local session says sign-in is off)'),
  })
  .meta({ id: 'MeDto' });
export type MeDto = z.output<typeof MeDto>;

export const SignedOutDto = z
  .object({
    message: z.string(),
    signIn: signInMode,
    loginUrl: z.string().nullable().describe('Where a browser signs in (GET, with `returnTo`); null when sign-in is off'),
  })
  .meta({ id: 'SignedOutDto' });
