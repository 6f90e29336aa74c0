import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { load } from 'js-yaml';

/**
 * A strict OpenFaaS gateway for tests, only because a real one cannot run here: basic auth on /system/*, PUT 404
 * for an unknown function, and every request body validated against the gateway's own OpenAPI document (unknown
 * fields and wrong types are a 400, as a careful provider would answer). It records the calls in order.
 */
export type FakeGateway = Readonly<{
  url: string;
  user: string;
  password: string;
  calls: readonly { method: string; path: string; body: unknown }[];
  functions: ReadonlyMap<string, Record<string, unknown>>;
  secrets: Set<string>;
  /** The next deploy (PUT or POST) answers this status instead. */
  failNextDeploy: (status: number) => void;
  /** The next deploy waits until released; `reached` resolves when it arrives. */
  holdNextDeploy: () => { reached: Promise<void>; release: () => void };
  close: () => Promise<void>;
}>;

type Schema = { type?: string; required?: string[]; properties?: Record<string, Schema>; additionalProperties?: Schema; items?: Schema; nullable?: boolean; allOf?: Schema[]; $ref?: string };
const spec = load(readFileSync(join(import.meta.dirname, '../contracts/openfaas-gateway.openapi.yml'), 'utf8')) as { components: { schemas: Record<string, Schema> } };

/** The OpenAPI subset the gateway's schemas use; returns the first violation, or null. */
export function violation(value: unknown, schema: Schema, at = 'body'): string | null {
  if (schema.$ref) return violation(value, spec.components.schemas[schema.$ref.split('/').at(-1)!]!, at);
  if (value === null) return schema.nullable ? null : `${at} must not be null`;
  if (schema.allOf) {
    for (const part of schema.allOf) {
      const problem = violation(value, part, at);
      if (problem) return problem;
    }
  }
  switch (schema.type) {
    case 'string':
      return typeof value === 'string' ? null : `${at} must be a string`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `${at} must be a boolean`;
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
  const secrets = new Set<string>();
  let failure: number | null = null;
  let hold: { reached: () => void; released: Promise<void> } | null = null;
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  const handle = async (request: IncomingMessage, response: ServerResponse, raw: string) => {
    const path = new URL(request.url ?? '/', 'http://gw').pathname;
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
    if (path === '/system/functions') {
      if (method === 'GET') return send(response, 200, [...functions.values()]);
      if (method === 'POST' || method === 'PUT') {
        const problem = violation(body, spec.components.schemas.FunctionDeployment!) ?? labelProblem((body as { labels?: Record<string, string> | null }).labels);
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
        const deployment = body as { service: string };
        if (method === 'PUT' && !functions.has(deployment.service)) return send(response, 404, `deployment ${deployment.service} not found`);
        if (method === 'POST' && functions.has(deployment.service)) return send(response, 400, `function ${deployment.service} already exists`);
        functions.set(deployment.service, { ...deployment, name: deployment.service, replicas: 1, availableReplicas: 1, invocationCount: 0, createdAt: new Date().toISOString() });
        return send(response, 202, '');
      }
      if (method === 'DELETE') {
        const problem = violation(body, spec.components.schemas.DeleteFunctionRequest!);
        if (problem) return send(response, 400, problem);
        const name = (body as { functionName: string }).functionName;
        if (!functions.delete(name)) return send(response, 404, `function ${name} not found`);
        return send(response, 202, '');
      }
    }
    if (path === '/system/secrets' && method === 'GET') return send(response, 200, [...secrets].map((name) => ({ name })));
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
    secrets,
    failNextDeploy: (status) => void (failure = status),
    holdNextDeploy: () => {
      let reached!: () => void;
      let release!: () => void;
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      hold = { reached, released: new Promise<void>((resolve) => (release = resolve)) };
      return { reached: reachedPromise, release };
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Kubernetes refuses labels that are not label syntax; so do providers that put them on Deployments. */
function labelProblem(labels: Record<string, string> | null | undefined): string | null {
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(key)) return `label key ${key} is invalid`;
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
