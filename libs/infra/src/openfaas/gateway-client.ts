import type { FunctionDeployment } from '#domain';

export type GatewayFunction = Readonly<{
  name: string;
  image: string;
  labels?: Record<string, string> | null;
  secrets?: readonly string[] | null;
}>;

/** `GET /system/function/{name}` (FunctionStatus): what readiness reads. */
export type GatewayFunctionStatus = GatewayFunction &
  Readonly<{ availableReplicas: number; replicas?: number; annotations?: Record<string, string> | null }>;

/** A gateway answer that is not success; `status` 0 means it could not be reached. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

/** The embedded gateway's answer to a deploy whose function ended before its health check answered: with its output. */
export class GatewayFunctionCrashed extends GatewayError {
  constructor(
    status: number,
    message: string,
    readonly exit: string,
    readonly output: readonly string[],
  ) {
    super(status, message);
  }
}

export type GatewayOptions = Readonly<{ url: string; user: string; password: string; timeoutMs?: number }>;

/**
 * The OpenFaaS gateway REST API as faas-cli drives it: PUT /system/functions, POST when the function does not
 * exist yet (404), 200/201/202 as success, basic auth on /system/*. The same client talks to the embedded gateway.
 */
export class GatewayClient {
  private readonly authorization: string;

  constructor(private readonly options: GatewayOptions) {
    this.authorization = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  }

  async deploy(deployment: FunctionDeployment, signal?: AbortSignal): Promise<'updated' | 'created'> {
    const update = await this.call('PUT', '/system/functions', deployment, signal);
    if (update.ok) return 'updated';
    if (update.status !== 404) throw await this.failure(update, `deploying ${deployment.service}`);
    const create = await this.call('POST', '/system/functions', deployment, signal);
    if (create.ok) return 'created';
    throw await this.failure(create, `deploying ${deployment.service}`);
  }

  /** `GET /system/function/{name}`: the function's deployment as the gateway runs it, or null when it has none of that name. */
  async status(name: string, signal?: AbortSignal): Promise<GatewayFunctionStatus | null> {
    const response = await this.call('GET', `/system/function/${encodeURIComponent(name)}`, undefined, signal);
    if (response.status === 404) return null;
    if (!response.ok) throw await this.failure(response, `reading ${name}`);
    const status = (await response.json()) as GatewayFunctionStatus;
    return { ...status, availableReplicas: Number(status.availableReplicas ?? 0) };
  }

  /**
   * The function's last `tail` log lines (`GET /system/logs`, NDJSON of LogEntry), oldest first. Best effort: a
   * gateway without a log provider, or one that cannot answer now, gives none rather than failing what asked.
   */
  async logs(name: string, tail: number, signal?: AbortSignal): Promise<string[]> {
    const query = new URLSearchParams({ name, tail: String(tail), follow: 'false' });
    try {
      const response = await this.call('GET', `/system/logs?${query}`, undefined, signal);
      if (!response.ok) return [];
      return (await response.text())
        .split('\n')
        .filter((line) => line.trim() !== '')
        .flatMap((line) => {
          try {
            const entry = JSON.parse(line) as { text?: unknown };
            return typeof entry.text === 'string' ? entry.text.split('\n').filter(Boolean) : [];
          } catch {
            return [];
          }
        })
        .slice(-tail);
    } catch {
      return [];
    }
  }

  async list(): Promise<GatewayFunction[]> {
    const response = await this.call('GET', '/system/functions');
    if (!response.ok) throw await this.failure(response, 'listing functions');
    return (await response.json()) as GatewayFunction[];
  }

  /** Deletes a function; one that is already gone counts as deleted. */
  async remove(name: string): Promise<void> {
    const response = await this.call('DELETE', '/system/functions', { functionName: name });
    if (!response.ok && response.status !== 404) throw await this.failure(response, `deleting ${name}`);
  }

  async secretNames(): Promise<Set<string>> {
    const response = await this.call('GET', '/system/secrets');
    if (!response.ok) throw await this.failure(response, 'listing secrets');
    return new Set(((await response.json()) as { name: string }[]).map((secret) => secret.name));
  }

  /**
   * Creates or replaces a secret (PUT, then POST when it does not exist). The value travels only in the body; a
   * refusal's message is the gateway's status, never the body sent.
   */
  async setSecret(name: string, value: Buffer): Promise<'updated' | 'created'> {
    const body = { name, rawValue: value.toString('base64') };
    const update = await this.call('PUT', '/system/secrets', body);
    if (update.ok) return 'updated';
    if (update.status !== 404) throw await this.failure(update, `updating secret ${name}`);
    const create = await this.call('POST', '/system/secrets', body);
    if (create.ok) return 'created';
    throw await this.failure(create, `creating secret ${name}`);
  }

  /** Deletes a secret; one that is already gone counts as deleted. */
  async removeSecret(name: string): Promise<void> {
    const response = await this.call('DELETE', '/system/secrets', { name });
    if (!response.ok && response.status !== 404) throw await this.failure(response, `deleting secret ${name}`);
  }

  private async call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
    try {
      return await fetch(`${this.options.url}${path}`, {
        method,
        headers: { authorization: this.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      throw new GatewayError(0, `OpenFaaS gateway unreachable: ${(error as Error).message}`);
    }
  }

  private async failure(response: Response, what: string): Promise<GatewayError> {
    const body = await response.text().catch(() => '');
    const crash = crashOf(response, body);
    if (crash) return new GatewayFunctionCrashed(response.status, `${what}: ${crash.exit}`, crash.exit, crash.output);
    const text = body.trim().slice(0, 200);
    if (response.status === 401) return new GatewayError(401, `${what}: the gateway refused OPENFAAS_USER/OPENFAAS_PASSWORD`);
    return new GatewayError(response.status, `${what}: gateway answered ${response.status}${text ? `: ${text}` : ''}`);
  }
}

const MAX_CRASH_LINES = 40;

/** The crash an embedded gateway reports (`{ crashed: { exit, output } }`), bounded whatever the answer holds; null otherwise. */
function crashOf(response: Response, body: string): { exit: string; output: string[] } | null {
  if (response.status !== 422 || !(response.headers.get('content-type') ?? '').includes('application/json')) return null;
  try {
    const crashed = (JSON.parse(body) as { crashed?: { exit?: unknown; output?: unknown } }).crashed;
    if (!crashed || typeof crashed.exit !== 'string' || !Array.isArray(crashed.output)) return null;
    const output = crashed.output.filter((line): line is string => typeof line === 'string').slice(0, MAX_CRASH_LINES);
    return { exit: crashed.exit.slice(0, 100), output: output.map((line) => line.slice(0, 500)) };
  } catch {
    return null;
  }
}
