import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalBuilder, shrinkwrap, TemplateRegistry, type Sandbox } from '#infra';

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
  const template = (await new TemplateRegistry({ roots: [templates], cacheDir: join(work, 'templates'), gitAllowedHosts: [], fetchTimeoutMs: 1000 }).builtins()).get('node20')!;
  const context = await shrinkwrap({ repoDir: repo, handler: 'fn', template, copy: [], buildArgs: {}, limits: { maxBytes: 1e7, maxFiles: 1000 } });
  const images = join(dataDir, 'images');
  await new LocalBuilder(images, join(dataDir, 'npm-cache'), {}, sandbox).build(
    { buildId: 'b', owner: function_.owner, name: function_.name, lang: 'node20', image: function_.image, contextDigest: context.digest, archive: context.archive, buildArgs: {}, contextUrl: '' },
    () => undefined,
    new AbortController().signal,
  );
  return join(images, context.digest.replace(':', '-'));
}

/** Basic auth of the gateways these tests start (`admin`/`pw`). */
export const TEST_GATEWAY_AUTH = `Basic ${Buffer.from('admin:pw').toString('base64')}`;

/** A JSON request to a test gateway's `/system` API. */
export const systemRequest = (url: string, method: string, path: string, body?: unknown) =>
  fetch(`${url}${path}`, { method, headers: { authorization: TEST_GATEWAY_AUTH, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
