import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalBuilder, silentLogger, type Sandbox } from '#infra';
import { EmbeddedGateway } from '../../src/embedded-gateway.js';
import { buildRequestFor, buildToEnd, packageHandler } from '../../../../test/support/build-context.js';

const templates = fileURLToPath(new URL('../../../../templates', import.meta.url));

/**
 * Builds a node20 handler (its `handler.js` source) into an image folder under `dataDir/images` with the local
 * builder, as a push would, optionally in the sandbox; answers the image folder.
 */
export async function buildHandlerImage(
  work: string,
  dataDir: string,
  function_: Readonly<{ owner: string; name: string; image: string; handler: string }>,
  sandbox: Sandbox | null = null,
): Promise<string> {
  const repo = join(work, 'repo');
  mkdirSync(join(repo, 'fn'), { recursive: true });
  writeFileSync(join(repo, 'fn', 'handler.js'), function_.handler);
  const context = await packageHandler({ repoDir: repo, templateRoot: templates, cacheDir: join(work, 'templates') });
  const images = join(dataDir, 'images');
  await buildToEnd(
    new LocalBuilder(images, join(dataDir, 'npm-cache'), {}, sandbox),
    buildRequestFor(context, { buildId: 'b', owner: function_.owner, name: function_.name, image: function_.image }),
  );
  return join(images, context.digest.replace(':', '-'));
}

/** Basic auth of the gateways these tests start (`admin`/`pw`). */
export const TEST_GATEWAY_AUTH = `Basic ${Buffer.from('admin:pw').toString('base64')}`;

/** A JSON request to a test gateway's `/system` API. */
export const systemRequest = (url: string, method: string, path: string, body?: unknown) =>
  fetch(`${url}${path}`, {
    method,
    headers: { authorization: TEST_GATEWAY_AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** Calls function `name` through the gateway at `url`; `body` is the answer as JSON, or null where it is not JSON. */
export const callFunction = async (url: string, name: string, query: string, timeoutMs = 20_000) => {
  const response = await fetch(`${url}/function/${name}?${query}`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let body: Record<string, unknown> | null = null;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // a plain-text answer (the gateway's own, or a squatter's)
  }
  return { status: response.status, text, body };
};

/** An embedded gateway as these tests start it: the test credentials, no logs, images under `dataDir/images` unless given. */
export const testGateway = (
  options: Omit<ConstructorParameters<typeof EmbeddedGateway>[0], 'imagesDir' | 'user' | 'password' | 'logger'> & { imagesDir?: string },
) => new EmbeddedGateway({ imagesDir: join(options.dataDir, 'images'), user: 'admin', password: 'pw', logger: silentLogger, ...options });

/** Whether process `pid` still exists (signal 0 asks without signalling). */
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
