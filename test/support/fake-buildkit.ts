import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  Server,
  ServerCredentials,
  status as grpcStatus,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { Header, Parser } from 'tar';
import { buildkitControl } from '#infra';
import { checkHealth, diffCopy, FakeSessionManager, sessionCredentials, type ClientSession } from './fake-buildkit-session.js';

/**
 * A BuildKit daemon for tests, only because buildkitd cannot run here. It serves the same Control .proto and is
 * strict about what a real daemon needs: the dockerfile.v0 frontend, an image exporter named and pushing (legacy
 * fields or the list), a ref, no attribute it does not know. The context is either an http(s) `context` attribute
 * (a tarball with a Dockerfile at its root) or, without one, the local dirs `dockerfile` and `context` read over
 * the client's session (`Control.Session`, named by SolveRequest.Session) with FileSync/DiffCopy, as the dockerfile
 * frontend reads them: the Dockerfile by followpaths, then .dockerignore, then the context without what it
 * excludes. Pushes authenticate as buildkitd's do: on the registry's Basic challenge it asks the session's
 * Auth/Credentials for the registry host, and a push the registry still refuses fails with the registry's words. Like buildkitd,
 * Status(ref) may come before or after the Solve: it gets the solve's progress from its start, live, and ends when
 * the solve ends. One vertex per Dockerfile instruction. It cannot run the base image, so it judges a RUN only when
 * the command needs nothing from the image (see `judgeable`): then it runs it for real with `/bin/sh -c` in an
 * empty scratch folder, streams its output and fails the build on a non-zero exit as buildkitd words it; any other
 * RUN is taken to succeed. It can hold a build, and pushes a real image (layer, config, schema-2 manifest) to a
 * registry when one is given.
 */
export type SolveRecord = Readonly<{
  ref: string;
  /** SolveRequest.Session: '' for a session-less solve. */
  session: string;
  /** The context's files as the build got them (over the session, without what .dockerignore excludes). */
  contextFiles: readonly string[];
  image: string;
  attrs: Record<string, string>;
  frontendAttrs: Record<string, string>;
  legacy: boolean;
}>;

export type FakeBuildKit = Readonly<{
  address: string;
  solves: readonly SolveRecord[];
  /** Every http(s) context the fake fetched (a session build fetches none). */
  contextFetches: readonly string[];
  /** The registry hosts a push asked a session's Auth/Credentials for. */
  credentialRequests: readonly string[];
  /** The next solve whose image matches waits until released; `reached` resolves when it starts waiting. */
  hold: (matches: (image: string) => boolean) => { reached: Promise<void>; release: () => void };
  close: () => Promise<void>;
}>;

type Hold = { matches: (image: string) => boolean; reached: () => void; released: Promise<void> };
/** A solve's progress: every update so far (a late Status gets them all) and whether the solve has ended. */
type Job = { updates: object[]; ended: boolean };

/** Like buildkitd's --tlscacert/--tlscert/--tlskey: TLS, and only clients with a certificate `ca` signed. */
export type FakeBuildKitTls = Readonly<{ ca: Buffer; cert: Buffer; key: Buffer }>;

export async function startFakeBuildKit(options: { registryUrl?: string; tls?: FakeBuildKitTls } = {}): Promise<FakeBuildKit> {
  const solves: SolveRecord[] = [];
  const contextFetches: string[] = [];
  const credentialRequests: string[] = [];
  const sessions = new FakeSessionManager();
  const holds: Hold[] = [];
  const progress = new EventEmitter().setMaxListeners(0);
  const jobs = new Map<string, Job>();
  const server = new Server();
  const { Control } = buildkitControl();

  server.addService(Control.service, {
    Session: (call: ServerDuplexStream<{ data: Buffer }, { data: Buffer }>) => sessions.accept(call),
    Solve: (call: ServerUnaryCall<Record<string, unknown>, unknown>, done: sendUnaryData<unknown>) => {
      solve(call.request)
        .then((response) => done(null, response))
        .catch((error: { code?: number; message: string }) =>
          done({ code: error.code ?? grpcStatus.UNKNOWN, details: error.message, name: 'Error', message: error.message }),
        );
    },
    Status: (call: ServerWritableStream<{ Ref: string }, unknown>) => {
      const ref = call.request.Ref;
      const forward = (update: unknown) => call.write(update);
      const end = () => {
        progress.off(`start:${ref}`, follow);
        progress.off(`update:${ref}`, forward);
        progress.off(`end:${ref}`, end);
        call.end();
      };
      // Like buildkitd, a Status for a solve not started yet waits for it; then the history, then live updates.
      const follow = () => {
        const job = jobs.get(ref)!;
        for (const update of job.updates) call.write(update);
        if (job.ended) return end();
        progress.on(`update:${ref}`, forward);
        progress.once(`end:${ref}`, end);
      };
      if (jobs.has(ref)) follow();
      else progress.once(`start:${ref}`, follow);
      call.on('cancelled', end);
    },
  });

  const invalid = (message: string) => Object.assign(new Error(message), { code: grpcStatus.INVALID_ARGUMENT });

  async function solve(request: Record<string, unknown>) {
    const ref = request.Ref as string;
    if (!ref) throw invalid('Ref is required');
    if (request.Frontend !== 'dockerfile.v0') throw invalid(`unsupported frontend ${String(request.Frontend)}`);
    const frontendAttrs = request.FrontendAttrs as Record<string, string>;
    const exporters = request.Exporters as { Type: string; Attrs: Record<string, string> }[];
    const legacy = exporters.length === 0;
    const exporter = legacy
      ? { Type: request.ExporterDeprecated as string, Attrs: request.ExporterAttrsDeprecated as Record<string, string> }
      : exporters[0]!;
    if (exporter.Type !== 'image') throw invalid(`exporter ${exporter.Type} is not image`);
    if (!exporter.Attrs.name) throw invalid('image exporter needs a name');
    if (exporter.Attrs.push !== 'true') throw invalid('image exporter must push');
    const unknownAttr =
      Object.keys(frontendAttrs).find((key) => !FRONTEND_ATTRS.has(key) && !key.startsWith('build-arg:')) ??
      Object.keys(exporter.Attrs).find((key) => !EXPORTER_ATTRS.has(key));
    if (unknownAttr !== undefined) throw invalid(`unknown attribute ${unknownAttr}`);
    const sessionId = request.Session as string;
    if (frontendAttrs.context !== undefined && !/^https?:\/\//.test(frontendAttrs.context)) throw invalid('context must be an http(s) URL');
    // Without a context attribute the frontend reads local dirs, which only a session can lend.
    if (frontendAttrs.context === undefined && !sessionId)
      throw invalid('no context attribute and no Session to read the local context from');
    // The dockerfile frontend parses `platform` as containerd's platforms.Parse does each comma-separated item.
    const platform = frontendAttrs.platform?.split(',').find((item) => !/^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9.]+)?$/.test(item));
    if (platform !== undefined) throw invalid(`failed to parse platform ${platform}: unknown operating system or architecture`);
    const image = exporter.Attrs.name;
    if (options.registryUrl) {
      // Like buildkitd: it pushes to the host the name says, and speaks plain HTTP only when told it may.
      const registry = new URL(options.registryUrl);
      if (image.split('/')[0] !== registry.host) throw invalid(`failed to push ${image}: no registry at ${image.split('/')[0]}`);
      if (registry.protocol === 'http:' && exporter.Attrs['registry.insecure'] !== 'true')
        throw invalid(`failed to push ${image}: http: server gave HTTP response to HTTPS client`);
    }
    const contextFiles: string[] = [];
    solves.push({ ref, session: sessionId, contextFiles, image, attrs: exporter.Attrs, frontendAttrs, legacy });
    const job: Job = { updates: [], ended: false };
    jobs.set(ref, job);
    progress.emit(`start:${ref}`);
    const send = (update: object) => {
      const full = { vertexes: [], statuses: [], logs: [], warnings: [], ...update };
      job.updates.push(full);
      progress.emit(`update:${ref}`, full);
    };
    const failVertex = async <T>(vertex: string, name: string, work: () => Promise<T>): Promise<T> => {
      send({ vertexes: [{ digest: vertex, name, cached: false }] });
      try {
        return await work();
      } catch (error) {
        send({ vertexes: [{ digest: vertex, name, cached: false, error: (error as Error).message }] });
        throw error;
      }
    };
    try {
      const session = sessionId ? await sessions.get(sessionId) : null;
      if (session) await checkHealth(session);
      const filename = frontendAttrs.filename ?? 'Dockerfile';
      const { files, dockerfile } =
        session && frontendAttrs.context === undefined
          ? await localContext(session, filename, failVertex, (line) =>
              send({ logs: [{ vertex: 'sha256:ctx', stream: 1, msg: Buffer.from(line) }] }),
            )
          : await failVertex('sha256:ctx', '[internal] load remote build context', async () => {
              contextFetches.push(frontendAttrs.context!);
              const download = await fetch(frontendAttrs.context!);
              if (!download.ok) throw new Error(`failed to load build context: ${download.status}`);
              const tarball = Buffer.from(await download.arrayBuffer());
              if (tarball[0] !== 0x1f || tarball[1] !== 0x8b) throw invalid('context is not a gzipped tarball');
              const files = readTar(gunzipSync(tarball));
              send({ logs: [{ vertex: 'sha256:ctx', stream: 1, msg: Buffer.from(`context: ${files.size} files\n`) }] });
              return { files, dockerfile: files.get(filename) };
            });
      contextFiles.push(...[...files.keys()].sort());
      if (!dockerfile) throw new Error(`failed to solve: failed to read dockerfile: open ${filename}: no such file or directory`);
      const hold = holds.find((candidate) => candidate.matches(image));
      if (hold) {
        holds.splice(holds.indexOf(hold), 1);
        hold.reached();
        await hold.released;
      }
      const steps = instructions(dockerfile.toString());
      for (const [i, step] of steps.entries()) {
        const vertex = `sha256:step${i + 1}`;
        send({ vertexes: [{ digest: vertex, name: `[${i + 1}/${steps.length}] ${step}`, cached: false }] });
        const command = /^RUN\s+(?!\[)(.*)$/is.exec(step)?.[1];
        if (command === undefined || !judgeable(command)) continue;
        const code = await runScratch(command, (stream, msg) => send({ logs: [{ vertex, stream, msg }] }));
        if (code !== 0) {
          const error = `process "/bin/sh -c ${command}" did not complete successfully: exit code: ${code}`;
          send({ vertexes: [{ digest: vertex, name: `[${i + 1}/${steps.length}] ${step}`, cached: false, error }] });
          throw new Error(error);
        }
      }
      const layerTar = writeTar(files);
      const credentials = async (host: string) => {
        // A session-less solve has nobody to ask: it pushes anonymously.
        if (!session) return { username: '', secret: '' };
        credentialRequests.push(host);
        return sessionCredentials(session, host);
      };
      const digest = await failVertex('sha256:export', `exporting to image ${image}`, async () =>
        options.registryUrl
          ? push(options.registryUrl, image, layerTar, credentials)
          : `sha256:${createHash('sha256').update(layerTar).digest('hex')}`,
      );
      return { ExporterResponse: { 'image.name': image, 'containerimage.digest': digest } };
    } finally {
      job.ended = true;
      progress.emit(`end:${ref}`);
    }
  }

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', serverCredentials(options.tls), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `tcp://127.0.0.1:${port}`,
    solves,
    contextFetches,
    credentialRequests,
    hold: (matches) => {
      let reached!: () => void;
      let release!: () => void;
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      holds.push({ matches, reached, released: new Promise<void>((resolve) => (release = resolve)) });
      return { reached: reachedPromise, release };
    },
    close: () => {
      sessions.close();
      return new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

const serverCredentials = (tls: FakeBuildKitTls | undefined) =>
  tls ? ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true) : ServerCredentials.createInsecure();

/** A Dockerfile's instructions, one per entry: comments and blank lines dropped, continued lines joined. */
function instructions(dockerfile: string): string[] {
  return dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Shell builtins that need nothing from an image and touch nothing but their output and exit status. */
const SELF_CONTAINED = new Set(['exit', 'true', 'false', ':', 'echo', 'printf', 'test', '[']);

/**
 * Whether a RUN command is one the fake can run honestly without the image: every command in it (joined by `;`,
 * `&&`, `||`, `|`) is one of SELF_CONTAINED, with no substitution and no redirection but between stdout and stderr.
 */
function judgeable(command: string): boolean {
  if (/\$\(|`/.test(command)) return false;
  return command
    .split(/&&|\|\||;|\|/)
    .map((part) => part.replace(/(^|\s)[12]?>&[12](?=\s|$)/g, ' ').trim())
    .every((part) => !/[<>]/.test(part) && SELF_CONTAINED.has(part.split(/\s+/)[0]!));
}

/** Runs a judged RUN command as buildkitd's shell would, in an empty scratch folder; resolves with its exit code. */
async function runScratch(command: string, log: (stream: number, msg: Buffer) => void): Promise<number> {
  const scratch = mkdtempSync(join(tmpdir(), 'fake-buildkit-run-'));
  try {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: scratch,
      env: { PATH: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10_000,
    });
    child.stdout.on('data', (chunk: Buffer) => log(1, chunk));
    child.stderr.on('data', (chunk: Buffer) => log(2, chunk));
    return await new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? 1)));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function readTar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const parser = new Parser({
    onReadEntry: (entry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () => entry.type === 'File' && files.set(entry.path, Buffer.concat(chunks)));
    },
  });
  parser.end(tar);
  return files;
}

/** What the dockerfile frontend and the image exporter faasline uses read; anything else is a client's mistake here. */
const FRONTEND_ATTRS = new Set(['filename', 'context', 'platform']);
const EXPORTER_ATTRS = new Set(['name', 'push', 'registry.insecure']);

type Vertex = <T>(vertex: string, name: string, work: () => Promise<T>) => Promise<T>;

/**
 * The dockerfile frontend's reads of the local dirs (frontend/dockerui/config.go): `dockerfile` with followpaths
 * [Dockerfile, Dockerfile.dockerignore, dockerfile], `context` for .dockerignore alone, then `context` without
 * what .dockerignore excludes. A sender that answers followpaths with more than was asked is refused.
 */
async function localContext(session: ClientSession, filename: string, vertex: Vertex, log: (line: string) => void) {
  const followPaths = [filename, `${filename}.dockerignore`, 'dockerfile'];
  const dockerfileDir = await vertex('sha256:dockerfile', `[internal] load build definition from ${filename}`, () =>
    diffCopy(session, 'dockerfile', { followPaths }),
  );
  const asked = (wanted: readonly string[]) => (path: string) => wanted.some((want) => want === path || want.startsWith(`${path}/`));
  const extra = [...dockerfileDir.keys()].find((path) => !asked(followPaths)(path));
  if (extra !== undefined) throw new Error(`failed to solve: the session sent ${extra} for followpaths ${followPaths.join(',')}`);
  const dockerfile = (dockerfileDir.get(filename) ?? dockerfileDir.get('dockerfile'))?.content ?? undefined;
  const ignoreDir = await vertex('sha256:dockerignore', '[internal] load .dockerignore', () =>
    diffCopy(session, 'context', { followPaths: ['.dockerignore'] }),
  );
  const extraIgnore = [...ignoreDir.keys()].find((path) => path !== '.dockerignore');
  if (extraIgnore !== undefined) throw new Error(`failed to solve: the session sent ${extraIgnore} for followpaths .dockerignore`);
  const excludes = (ignoreDir.get('.dockerignore')?.content?.toString('utf8') ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const received = await vertex('sha256:ctx', '[internal] load build context', () => diffCopy(session, 'context', { excludes }));
  const files = new Map<string, Buffer>();
  for (const entry of received.values()) if (!entry.dir) files.set(entry.path, entry.content ?? Buffer.alloc(0));
  log(`transferring context: ${files.size} files\n`);
  return { files, dockerfile };
}

/** A plain tar of the files (folders implied), the image's one layer. */
function writeTar(files: ReadonlyMap<string, Buffer>): Buffer {
  const blocks: Buffer[] = [];
  for (const [path, content] of [...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const block = Buffer.alloc(512);
    new Header({ path, mode: 0o644, size: content.length, mtime: new Date(0), type: 'File', uid: 0, gid: 0 }).encode(block, 0);
    blocks.push(block, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

type Credentials = (host: string) => Promise<{ username: string; secret: string }>;

/**
 * Registry HTTP API v2: two blobs (POST then PUT with the digest) and a Docker schema-2 manifest. Authentication as
 * containerd's resolver in buildkitd: a 401 with a Basic challenge asks for the host's credentials once and retries
 * with them; no credentials, or a second 401, fails with the registry's own error.
 */
async function push(registryUrl: string, image: string, layerTar: Buffer, credentials: Credentials): Promise<string> {
  const [, repository, tag] = /^[^/]+\/(.+):([^:/]+)$/.exec(image) ?? [];
  if (!repository || !tag) throw new Error(`cannot push ${image}`);
  const host = new URL(registryUrl).host;
  let authorization: string | null = null;
  const request = async (url: URL | string, init: RequestInit): Promise<Response> => {
    const send = () => fetch(url, { ...init, headers: { ...(init.headers as object), ...(authorization ? { authorization } : {}) } });
    let response = await send();
    if (response.status === 401 && authorization === null && /^basic\b/i.test(response.headers.get('www-authenticate') ?? '')) {
      const { username, secret } = await credentials(host);
      if (username || secret) {
        authorization = `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}`;
        response = await send();
      }
    }
    if (response.status === 401 || response.status === 403)
      throw new Error(
        `failed to push ${image}: unexpected status from ${init.method} request to ${url}: ${response.status} ${response.statusText}: ${await registryError(response)}`,
      );
    return response;
  };
  const sha = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const layer = gzipSync(layerTar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['fwatchdog'] },
      rootfs: { type: 'layers', diff_ids: [sha(layerTar)] },
    }),
  );
  for (const blob of [layer, config]) {
    const started = await request(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    if (started.status !== 202) throw new Error(`registry upload: ${started.status}`);
    const location = new URL(started.headers.get('location')!, registryUrl);
    location.searchParams.set('digest', sha(blob));
    const put = await request(location, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: blob });
    if (put.status !== 201) throw new Error(`registry blob: ${put.status} ${await put.text()}`);
  }
  const mediaType = 'application/vnd.docker.distribution.manifest.v2+json';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha(layer) }],
    }),
  );
  const put = await request(`${registryUrl}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body: manifest,
  });
  if (put.status !== 201) throw new Error(`registry manifest: ${put.status} ${await put.text()}`);
  return put.headers.get('docker-content-digest') ?? sha(manifest);
}

/** The registry's `errors` (code: message), as distribution answers them. */
async function registryError(response: Response): Promise<string> {
  const body = await response.text();
  try {
    const { errors } = JSON.parse(body) as { errors?: { code: string; message: string }[] };
    if (errors?.length) return errors.map((error) => `${error.code}: ${error.message}`).join('; ');
  } catch {
    // not JSON: quoted as it came
  }
  return body.trim().slice(0, 300) || 'no reason given';
}
