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
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { Parser } from 'tar';
import { buildkitControl } from '#infra';

/**
 * A BuildKit daemon for tests, only because buildkitd cannot run here. It serves the same Control .proto and is
 * strict about what a real daemon needs: the dockerfile.v0 frontend, an http(s) context that is a tarball with a
 * Dockerfile at its root, an image exporter named and pushing (legacy fields or the list), a ref. Like buildkitd,
 * Status(ref) may come before or after the Solve: it gets the solve's progress from its start, live, and ends when
 * the solve ends. One vertex per Dockerfile instruction. It cannot run the base image, so it judges a RUN only when
 * the command needs nothing from the image (see `judgeable`): then it runs it for real with `/bin/sh -c` in an
 * empty scratch folder, streams its output and fails the build on a non-zero exit as buildkitd words it; any other
 * RUN is taken to succeed. It can hold a build, and pushes a real image (layer, config, schema-2 manifest) to a
 * registry when one is given.
 */
export type SolveRecord = Readonly<{
  ref: string;
  image: string;
  attrs: Record<string, string>;
  frontendAttrs: Record<string, string>;
  legacy: boolean;
}>;

export type FakeBuildKit = Readonly<{
  address: string;
  solves: readonly SolveRecord[];
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
  const holds: Hold[] = [];
  const progress = new EventEmitter().setMaxListeners(0);
  const jobs = new Map<string, Job>();
  const server = new Server();
  const { Control } = buildkitControl();

  server.addService(Control.service, {
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
    if (!/^https?:\/\//.test(frontendAttrs.context ?? '')) throw invalid('context must be an http(s) URL for a session-less build');
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
    solves.push({ ref, image, attrs: exporter.Attrs, frontendAttrs, legacy });
    const job: Job = { updates: [], ended: false };
    jobs.set(ref, job);
    progress.emit(`start:${ref}`);
    const send = (update: object) => {
      const full = { vertexes: [], statuses: [], logs: [], warnings: [], ...update };
      job.updates.push(full);
      progress.emit(`update:${ref}`, full);
    };
    try {
      send({ vertexes: [{ digest: 'sha256:ctx', name: '[internal] load remote build context', cached: false }] });
      const download = await fetch(frontendAttrs.context!);
      if (!download.ok) throw new Error(`failed to load build context: ${download.status}`);
      const tarball = Buffer.from(await download.arrayBuffer());
      if (tarball[0] !== 0x1f || tarball[1] !== 0x8b) throw invalid('context is not a gzipped tarball');
      const files = readTar(gunzipSync(tarball));
      const dockerfile = files.get(frontendAttrs.filename ?? 'Dockerfile');
      if (!dockerfile) throw new Error('failed to solve: failed to read dockerfile: open Dockerfile: no such file or directory');
      send({ logs: [{ vertex: 'sha256:ctx', stream: 1, msg: Buffer.from(`context: ${files.size} files\n`) }] });
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
      const digest = options.registryUrl
        ? await push(options.registryUrl, image, gunzipSync(tarball))
        : `sha256:${createHash('sha256').update(tarball).digest('hex')}`;
      send({ vertexes: [{ digest: 'sha256:export', name: `exporting to image ${image}`, cached: false }] });
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
    hold: (matches) => {
      let reached!: () => void;
      let release!: () => void;
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      holds.push({ matches, reached, released: new Promise<void>((resolve) => (release = resolve)) });
      return { reached: reachedPromise, release };
    },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
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

/** Registry HTTP API v2: two blobs (POST then PUT with the digest) and a Docker schema-2 manifest. */
async function push(registryUrl: string, image: string, contextTar: Buffer): Promise<string> {
  const [, repository, tag] = /^[^/]+\/(.+):([^:/]+)$/.exec(image) ?? [];
  if (!repository || !tag) throw new Error(`cannot push ${image}`);
  const sha = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const layer = gzipSync(contextTar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['fwatchdog'] },
      rootfs: { type: 'layers', diff_ids: [sha(contextTar)] },
    }),
  );
  for (const blob of [layer, config]) {
    const started = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    if (started.status !== 202) throw new Error(`registry upload: ${started.status}`);
    const location = new URL(started.headers.get('location')!, registryUrl);
    location.searchParams.set('digest', sha(blob));
    const put = await fetch(location, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: blob });
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
  const put = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body: manifest,
  });
  if (put.status !== 201) throw new Error(`registry manifest: ${put.status} ${await put.text()}`);
  return put.headers.get('docker-content-digest') ?? sha(manifest);
}
