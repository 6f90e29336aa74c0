import type { Sandbox } from '#infra';

/** Injection tokens of the api process. */
export const CUSTOMERS = Symbol('CUSTOMERS');
export const WEBHOOK_SECRET = Symbol('WEBHOOK_SECRET');
export const INGRESS_COUNTERS = Symbol('INGRESS_COUNTERS');
export const GATEWAY_PASSWORD = Symbol('GATEWAY_PASSWORD');
export const ADMIN_TOKEN = Symbol('ADMIN_TOKEN');
export const LINKS_SECRET = Symbol('LINKS_SECRET');
export const LINKS = Symbol('LINKS');
export const CONTEXT_STORE = Symbol('CONTEXT_STORE');
export const BUILD_LOGS = Symbol('BUILD_LOGS');
/** The sandbox local builds run in, and whether pushes are limited to trusted owners for want of one. */
export const SANDBOX = Symbol('SANDBOX');
export type SandboxChoice = Readonly<{ sandbox: Sandbox | null; trustedOwnersOnly: boolean }>;
/** How far the log and its subscribers are, for `/metrics`. */
export const BACKLOG = Symbol('BACKLOG');
/** The server's sealing key (SealKey): secrets.yml values are sealed to its public half. */
export const SEAL_KEY = Symbol('SEAL_KEY');
/** The owner API tokens (OwnerTokenStore). */
export const OWNER_TOKENS = Symbol('OWNER_TOKENS');
/** An owner's secrets on the gateway (OwnerSecrets). */
export const OWNER_SECRETS = Symbol('OWNER_SECRETS');
/** Sessions and sign-ins under way (SessionStore). */
export const SESSIONS = Symbol('SESSIONS');
/** The OAuth provider people sign in with (OAuthClient); null when GITHUB_CLIENT_ID is unset. */
export const OAUTH_CLIENT = Symbol('OAUTH_CLIENT');
