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
