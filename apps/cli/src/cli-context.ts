// What every command shares: where faasline and its gateway are, which token to send, how to call the API,
// how to print (text, --json, colours only on a terminal) and how to fail (one line, exit 1, no stack trace).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { styleText } from 'node:util';

/** A failure the user can act on: main prints `faasline: <message>` on stderr and exits 1. */
export class CliError extends Error {}

/** A non-2xx answer of the API: a CliError that also tells its status, so a command can word a 404 its own way. */
export class ApiError extends CliError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export type CallOptions = {
  body?: unknown;
  /** The bearer token to send; `null` sends none; unset sends `token()`. */
  token?: string | null;
};

export type CliContext = {
  /** The faasline API: `--api`, else FAASLINE_API, else this machine's PORT (8080). */
  apiUrl(flag?: string): string;
  /** The OpenFaaS gateway: `--gateway`, else OPENFAAS_URL, else this machine's GATEWAY_PORT (8081). */
  gatewayUrl(flag?: string): string;
  /** The caller's token: FAASLINE_TOKEN (an owner's), else the admin token. */
  token(): string;
  /** ADMIN_TOKEN, else the one faasline generated into DATA_DIR/secrets at its first start. */
  adminToken(): string;
  /** A secret from the environment, else the file faasline created for it in DATA_DIR/secrets. */
  secret(variable: string, file: string): string;
  /** A JSON call to the API; unreachable or non-2xx answers become one-line CliErrors. */
  call<T>(method: string, url: string, options?: CallOptions): Promise<T>;
  /** Like `call`, for a text answer (a build log). */
  callText(method: string, url: string, options?: CallOptions): Promise<string>;
  /** `--json` prints the value as JSON; otherwise `text` prints it for people. */
  print(json: boolean, value: unknown, text: () => void): void;
  colour: { ok(s: string): string; fail(s: string): string; dim(s: string): string };
};

const trimSlashes = (url: string) => url.replace(/\/+$/, '');

/** Why a fetch failed, as briefly as Node says it (ECONNREFUSED rather than "fetch failed"). */
export function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string' && cause.message !== '') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** The answer's own message when it is JSON with one (Nest's error shape), else its text. */
async function answerMessage(response: Response): Promise<string> {
  const text = (await response.text()).trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
    if (Array.isArray(parsed.message)) return parsed.message.join('; ');
  } catch {
    // not JSON: the text is the message
  }
  return text;
}

export function cliContext(env: NodeJS.ProcessEnv = process.env): CliContext {
  const secret = (variable: string, file: string): string => {
    const value = env[variable];
    if (value) return value;
    const path = join(resolve(env.DATA_DIR ?? '.faasline'), 'secrets', file);
    if (!existsSync(path))
      throw new CliError(`${variable} is not set and ${path} does not exist: start faasline first (npm start), or set ${variable}`);
    return readFileSync(path, 'utf8').trim();
  };
  const adminToken = () => secret('ADMIN_TOKEN', 'admin-token');
  const token = () => {
    if (env.FAASLINE_TOKEN) return env.FAASLINE_TOKEN;
    if (env.ADMIN_TOKEN) return env.ADMIN_TOKEN;
    const path = join(resolve(env.DATA_DIR ?? '.faasline'), 'secrets', 'admin-token');
    if (existsSync(path)) return readFileSync(path, 'utf8').trim();
    throw new CliError(
      `no token: set FAASLINE_TOKEN (an owner token) or ADMIN_TOKEN, or run this where faasline keeps its data (DATA_DIR, now ${resolve(env.DATA_DIR ?? '.faasline')})`,
    );
  };
  const request = async (method: string, url: string, options: CallOptions): Promise<string> => {
    const bearer = options.token === undefined ? token() : options.token;
    const headers: Record<string, string> = {};
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    } catch (error) {
      throw new CliError(`cannot reach faasline at ${new URL(url).origin} (${reason(error)}): is it running? (npm start)`);
    }
    if (!response.ok)
      throw new ApiError(
        `${method} ${new URL(url).pathname} answered ${response.status}: ${await answerMessage(response)}`,
        response.status,
      );
    return response.text();
  };
  const coloured = Boolean(process.stdout.isTTY) && env.NO_COLOR === undefined;
  const style = (format: Parameters<typeof styleText>[0]) => (s: string) => (coloured ? styleText(format, s) : s);

  return {
    apiUrl: (flag) => trimSlashes(flag ?? env.FAASLINE_API ?? `http://127.0.0.1:${env.PORT ?? 8080}`),
    gatewayUrl: (flag) => trimSlashes(flag ?? env.OPENFAAS_URL ?? `http://127.0.0.1:${env.GATEWAY_PORT ?? 8081}`),
    token,
    adminToken,
    secret,
    async call<T>(method: string, url: string, options: CallOptions = {}): Promise<T> {
      const text = await request(method, url, options);
      return (text === '' ? undefined : JSON.parse(text)) as T;
    },
    callText: (method, url, options = {}) => request(method, url, options),
    print(json, value, text) {
      if (json) console.log(JSON.stringify(value));
      else text();
    },
    colour: { ok: style('green'), fail: style('red'), dim: style('dim') },
  };
}
