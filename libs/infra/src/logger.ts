import { AsyncLocalStorage } from 'node:async_hooks';
import { pino } from 'pino';

/** What every line written while some work runs says about that work: which push, which event caused it, which step. */
export type LogContext = Readonly<{
  correlationId?: string;
  causationId?: string;
  step?: string;
  job?: string;
  subscriber?: string;
}>;

/** The logging port: one JSON line per call, with the current `LogContext`, never a secret. */
export type Logger = Readonly<{
  info: (message: string, fields?: Readonly<Record<string, unknown>>) => void;
  warn: (message: string, fields?: Readonly<Record<string, unknown>>) => void;
  error: (message: string, fields?: Readonly<Record<string, unknown>>) => void;
}>;

const context = new AsyncLocalStorage<LogContext>();

/** Runs `work` with `fields` added to every line it logs, however deep and however asynchronous. */
export const withLogContext = <T>(fields: LogContext, work: () => T): T => context.run({ ...context.getStore(), ...fields }, work);

/**
 * Fields that hold credentials, wherever a configuration or a request object is logged: the line keeps the key
 * and loses the value.
 */
const SECRET_FIELDS = [
  'githubWebhookSecret',
  'githubToken',
  'adminToken',
  'openfaasPassword',
  'privateKey',
  'password',
  'secret',
  'token',
  'authorization',
];
export const REDACTED_PATHS = SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);

const root = (destination: pino.DestinationStream | undefined) =>
  pino(
    {
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => context.getStore() ?? {},
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );

let processRoot: pino.Logger | null = null;

/** JSON lines on stdout (or `destination`), each with `component` and the current log context. */
export function jsonLogger(component: string, destination?: pino.DestinationStream): Logger {
  const base = destination ? root(destination) : (processRoot ??= root(undefined));
  const log = base.child({ component });
  return {
    info: (message, fields) => (fields ? log.info(fields, message) : log.info(message)),
    warn: (message, fields) => (fields ? log.warn(fields, message) : log.warn(message)),
    error: (message, fields) => (fields ? log.error(fields, message) : log.error(message)),
  };
}

/**
 * The framework's logger (Nest's `LoggerService` shape) writing through `logger`: its warnings and errors (an
 * exception a handler did not catch) become JSON lines with the request's log context like every other line.
 */
type FrameworkLogger = Readonly<Record<'log' | 'warn' | 'error', (message: unknown, ...rest: unknown[]) => void>>;

export const frameworkLogger = (logger: Logger): FrameworkLogger => {
  const fields = (rest: unknown[]) => {
    const [first, second] = rest;
    return second === undefined ? { context: first } : { stack: first, context: second };
  };
  return {
    log: () => {},
    warn: (message: unknown, ...rest: unknown[]) => logger.warn(String(message), { context: rest[0] }),
    error: (message: unknown, ...rest: unknown[]) => logger.error(String(message), fields(rest)),
  };
};

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
