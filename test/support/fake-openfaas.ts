import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { load } from 'js-yaml';

/**
 * A strict OpenFaaS gateway for tests, only because a real one cannot run here: basic auth on /system/*, PUT 404
 * for an unknown function, a 400 for a deploy naming a secret it does not have (faas-netes' answer), and every
 * request body validated against the gateway's own OpenAPI document (unknown fields, wrong types and formats are a
 * 400, as a careful provider would answer). It records the calls in order.
 */
export type FakeGateway = Readonly<{
  url: string;
  user: string;
  password: string;
  calls: readonly { method: string; path: string; body: unknown }[];
  functions: ReadonlyMap<string, Record<string, unknown>>;
  /** Every deploy the gateway took (answered 2xx), in order: a function deployed twice with one image shows here. */
  deploys: readonly { service: string; image: string; labels: Readonly<Record<string, string>> }[];
  secrets: Set<string>;
  /** The value of each secret created or updated through /system/secrets. */
  secretValues: ReadonlyMap<string, Buffer>;
  /** The next deploy (PUT or POST) answers this status instead. */
  failNextDeploy: (status: number) => void;
  /** The next deploy waits until released; `reached` resolves when it arrives. */
  holdNextDeploy: () => { reached: Promise<void>; release: () => void };
  /**
   * Deploys of `image` keep 0 available replicas (GET /system/function/{name}), for `readyAfterMs` after the deploy
   * when given (then 1), else for good: an image whose pull waits, or a scheduler with no room.
   */
  holdReplicas: (image: string, readyAfterMs?: number) => void;
  /** Deploys of `image` crash-loop: never an available replica, and /system/logs answers `lines`, as each restart prints them. */
  crashLoop: (image: string, lines: readonly string[]) => void;
  close: () => Promise<void>;
}>;

export type Schema = {
  type?: string;
  format?: string;
  enum?: unknown[];
  minimum?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
  nullable?: boolean;
  allOf?: Schema[];
  $ref?: string;
};
const spec = load(readFileSync(join(import.meta.dirname, '../contracts/openfaas-gateway.openapi.yml'), 'utf8')) as {
  components: { schemas: Record<string, Schema> };
};
const resolve = (schema: Schema): Schema => (schema.$ref ? resolve(spec.components.schemas[schema.$ref.split('/').at(-1)!]!) : schema);

/** What the formats the gateway's document names require of a value (`binary` bodies are not JSON: not checked). */
const formats: Record<string, (value: unknown) => boolean> = {
  'date-time': (value) =>
    typeof value === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value) &&
    !Number.isNaN(Date.parse(value)),
  integer: (value) => Number.isInteger(value),
  int64: (value) => Number.isSafeInteger(value),
  int32: (value) => Number.isInteger(value) && (value as number) >= -(2 ** 31) && (value as number) < 2 ** 31,
  double: (value) => typeof value === 'number' && Number.isFinite(value),
  byte: (value) => typeof value === 'string' && /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value),
  semver: (value) => typeof value === 'string' && /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(value),
};

/** A schema with its `$ref` resolved and its allOf parts merged in (the gateway's allOf only combines objects). */
function flatten(schema: Schema): Schema {
  const own = resolve(schema);
  if (!own.allOf) return own;
  const parts = own.allOf.map(flatten);
  return {
    ...Object.assign({}, ...parts),
    ...own,
    allOf: undefined,
    type: own.type ?? parts.find((part) => part.type)?.type,
    required: [...(own.required ?? []), ...parts.flatMap((part) => part.required ?? [])],
    properties: Object.assign({}, ...parts.map((part) => part.properties), own.properties),
    nullable: own.nullable,
  };
}

/** The OpenAPI subset the gateway's schemas use; returns the first violation, or null. */
export function violation(value: unknown, schema: Schema, at = 'body'): string | null {
  const flat = flatten(schema);
  if (value === null) return flat.nullable ? null : `${at} must not be null`;
  if (flat.enum && !flat.enum.includes(value)) return `${at} must be one of ${flat.enum.map((item) => JSON.stringify(item)).join(', ')}`;
  const problem = typeProblem(value, flat, at);
  if (problem) return problem;
  const format = flat.format && formats[flat.format];
  if (format && !format(value)) return `${at} must be ${/^int/.test(flat.format!) ? 'an integer' : `a ${flat.format}`}`;
  if (flat.minimum !== undefined && typeof value === 'number' && value < flat.minimum) return `${at} must be at least ${flat.minimum}`;
  return null;
}

function typeProblem(value: unknown, schema: Schema, at: string): string | null {
  switch (schema.type) {
    case 'string':
      return typeof value === 'string' ? null : `${at} must be a string`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `${at} must be a boolean`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : `${at} must be a number`;
    case 'integer':
      return Number.isInteger(value) ? null : `${at} must be an integer`;
    case 'array':
      if (!Array.isArray(value)) return `${at} must be an array`;
      return value.map((item, i) => violation(item, schema.items ?? {}, `${at}[${i}]`)).find(Boolean) ?? null;
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return `${at} must be an object`;
      const record = value as Record<string, unknown>;
      for (const key of schema.required ?? []) if (!(key in record)) return `${at}.${key} is required`;
      for (const [key, item] of Object.entries(record)) {
        const property = schema.properties?.[key] ?? schema.additionalProperties;
        if (!property) return `${at}.${key} is not in the API`;
        const problem = violation(item, property, `${at}.${key}`);
        if (problem) return problem;
      }
      return null;
    }
    default:
      return null;
  }
}

export async function startFakeGateway(user = 'admin', password = 'gateway-password'): Promise<FakeGateway> {
  const calls: { method: string; path: string; body: unknown }[] = [];
  const functions = new Map<string, Record<string, unknown>>();
  const deploys: { service: string; image: string; labels: Record<string, string> }[] = [];
  const secrets = new Set<string>();
  const secretValues = new Map<string, Buffer>();
  let failure: number | null = null;
  let hold: { reached: () => void; released: Promise<void> } | null = null;
  const held = new Map<string, number>();
  const crashing = new Map<string, readonly string[]>();
  /** When each function's current deployment has an available replica (Infinity: never), and what it logs. */
  const rollouts = new Map<string, { readyAt: number; logs: readonly string[] }>();
  const available = (name: string) => (Date.now() >= (rollouts.get(name)?.readyAt ?? 0) ? 1 : 0);
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  const handle = async (request: IncomingMessage, response: ServerResponse, raw: string) => {
    const url = new URL(request.url ?? '/', 'http://gw');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    let body: unknown = undefined;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(response, 400, 'invalid JSON');
      }
    }
    calls.push({ method, path, body });
    if (path.startsWith('/system/') && request.headers.authorization !== authorization) {
      response.setHeader('WWW-Authenticate', 'Basic realm="Restricted"');
      return send(response, 401, 'Unauthorized');
    }
    // An available replica answers with the image it runs; none answers 503, as the gateway does when no endpoint is ready.
    const invoked = /^\/function\/([^/]+)/.exec(path);
    if (invoked) {
      const fn = functions.get(decodeURIComponent(invoked[1]!));
      if (!fn) return send(response, 404, 'not found');
      return available(String(fn.name))
        ? send(response, 200, `served by ${String(fn.image)}`)
        : send(response, 503, 'no endpoints available');
    }
    if (path.startsWith('/system/function/') && method === 'GET') {
      const fn = functions.get(decodeURIComponent(path.slice('/system/function/'.length)));
      if (!fn) return send(response, 404, 'not found');
      const { service: _service, ...deployed } = fn;
      const status = { ...deployed, availableReplicas: available(String(fn.name)) };
      // The answer keeps to the gateway's own document, as the request bodies do.
      const problem = violation(status, spec.components.schemas.FunctionStatus!);
      return problem ? send(response, 500, problem) : send(response, 200, status);
    }
    if (path === '/system/logs' && method === 'GET') {
      const name = url.searchParams.get('name');
      const tail = url.searchParams.get('tail');
      if (!name) return send(response, 400, 'name is required');
      if (tail !== null && !/^-?\d+$/.test(tail)) return send(response, 400, 'tail must be an integer');
      const fn = functions.get(name);
      if (!fn) return send(response, 404, `function ${name} not found`);
      const lines = rollouts.get(name)?.logs ?? [];
      const kept = tail !== null && Number(tail) > 0 ? lines.slice(-Number(tail)) : lines;
      const timestamp = new Date().toISOString();
      const entries = kept.map((text) => ({ name, namespace: 'openfaas-fn', instance: `${name}-7d9c4b-x2x9z`, timestamp, text }));
      const problem = entries.map((entry) => violation(entry, spec.components.schemas.LogEntry!)).find(Boolean);
      if (problem) return send(response, 500, problem);
      return void response
        .writeHead(200, { 'content-type': 'application/x-ndjson' })
        .end(entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
    }
    if (path === '/system/functions') {
      if (method === 'GET')
        return send(
          response,
          200,
          [...functions.values()].map((fn) => ({ ...fn, availableReplicas: available(String(fn.name)) })),
        );
      if (method === 'POST' || method === 'PUT') {
        const problem =
          violation(body, spec.components.schemas.FunctionDeployment!) ??
          labelProblem((body as { labels?: Record<string, string> | null }).labels);
        if (problem) return send(response, 400, problem);
        if (hold) {
          const held = hold;
          hold = null;
          held.reached();
          await held.released;
        }
        if (failure !== null) {
          const status = failure;
          failure = null;
          return send(response, status, 'injected failure');
        }
        const deployment = body as { service: string; secrets?: string[] };
        if (method === 'PUT' && !functions.has(deployment.service))
          return send(response, 404, `deployment ${deployment.service} not found`);
        if (method === 'POST' && functions.has(deployment.service))
          return send(response, 400, `function ${deployment.service} already exists`);
        // faas-netes looks every named secret up in the function namespace and refuses the deploy at the first missing one.
        const missing = (deployment.secrets ?? []).find((name) => !secrets.has(name));
        if (missing !== undefined) {
          const notFound = `secrets "${missing}" not found`;
          return send(
            response,
            400,
            method === 'POST'
              ? `unable to fetch secrets: ${notFound}`
              : `unable update Deployment: ${deployment.service}.openfaas-fn, error: ${notFound}`,
          );
        }
        const { image, labels } = body as { image: string; labels?: Record<string, string> | null };
        deploys.push({ service: deployment.service, image, labels: labels ?? {} });
        const heldFor = held.get(image);
        rollouts.set(deployment.service, {
          readyAt: crashing.has(image) ? Infinity : heldFor !== undefined ? Date.now() + heldFor : 0,
          logs: crashing.get(image) ?? [],
        });
        functions.set(deployment.service, {
          ...deployment,
          name: deployment.service,
          replicas: 1,
          availableReplicas: 1,
          invocationCount: 0,
          createdAt: new Date().toISOString(),
        });
        return send(response, 202, '');
      }
      if (method === 'DELETE') {
        const problem = violation(body, spec.components.schemas.DeleteFunctionRequest!);
        if (problem) return send(response, 400, problem);
        const name = (body as { functionName: string }).functionName;
        if (!functions.delete(name)) return send(response, 404, `function ${name} not found`);
        rollouts.delete(name);
        return send(response, 202, '');
      }
    }
    if (path === '/system/secrets' && method === 'GET')
      return send(
        response,
        200,
        [...secrets].map((name) => ({ name })),
      );
    if (path === '/system/secrets' && (method === 'POST' || method === 'PUT')) {
      const problem = violation(body, spec.components.schemas.Secret!);
      if (problem) return send(response, 400, problem);
      const { name, value, rawValue } = body as { name: string; value?: string; rawValue?: string };
      // faas-netes: PUT replaces an existing secret only, POST creates a new one only.
      if (method === 'PUT' && !secrets.has(name)) return send(response, 404, `secret ${name} not found`);
      if (method === 'POST' && secrets.has(name)) return send(response, 409, `secret ${name} already exists`);
      secrets.add(name);
      secretValues.set(name, rawValue !== undefined ? Buffer.from(rawValue, 'base64') : Buffer.from(value ?? ''));
      return send(response, method === 'POST' ? 201 : 200, '');
    }
    if (path === '/system/secrets' && method === 'DELETE') {
      const problem = violation(body, spec.components.schemas.SecretDescription!);
      if (problem) return send(response, 400, problem);
      const { name } = body as { name: string };
      if (!secrets.delete(name)) return send(response, 404, `secret ${name} not found`);
      secretValues.delete(name);
      return send(response, 204, '');
    }
    return send(response, 404, 'not found');
  };

  const server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    request.on('end', () => void handle(request, response, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    user,
    password,
    calls,
    functions,
    deploys,
    secrets,
    secretValues,
    failNextDeploy: (status) => void (failure = status),
    holdNextDeploy: () => {
      let reached!: () => void;
      let release!: () => void;
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      hold = { reached, released: new Promise<void>((resolve) => (release = resolve)) };
      return { reached: reachedPromise, release };
    },
    holdReplicas: (image, readyAfterMs = Infinity) => void held.set(image, readyAfterMs),
    crashLoop: (image, lines) => void crashing.set(image, lines),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Kubernetes refuses labels that are not label syntax; so do providers that put them on Deployments. */
function labelProblem(labels: Record<string, string> | null | undefined): string | null {
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(key))
      return `label key ${key} is invalid`;
    if (!/^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/.test(value)) return `label value ${value} of ${key} is invalid`;
  }
  return null;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (typeof body === 'string') response.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  else response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Whether a value has the shape the gateway's OpenAPI document gives a named schema (null when it does). */
export const schemaViolation = (value: unknown, schema: string) => violation(value, spec.components.schemas[schema]!);
