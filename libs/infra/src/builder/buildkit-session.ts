import { randomUUID } from 'node:crypto';
import { performServerHandshake, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { Metadata, status as grpcStatus } from '@grpc/grpc-js';
import { buildkitSessionServices, type ControlClient, type SessionServices } from './buildkit-proto.js';
import { sendDiffCopy, type ContextEntry, type Packet, type PacketCodec } from './filesync.js';
import { serveGrpcStream, type GrpcCall, type GrpcHandler } from './grpc-h2.server.js';
import { GrpcError } from './grpc-message.codec.js';
import { grpcStreamConnection } from './grpc-stream.connection.js';
import type { RegistryAuth } from './registry-auth.js';

/** What a build lends BuildKit: credentials for its pushes and pulls, and local folders by name (`context`, `dockerfile`). */
export type SessionAttachables = Readonly<{
  auth: RegistryAuth | null;
  dirs: ReadonlyMap<string, readonly ContextEntry[]>;
}>;

export type BuildKitSession = Readonly<{ id: string; close: () => void }>;

const HEALTH_CHECK = '/grpc.health.v1.Health/Check';
/** HealthCheckResponse{status: SERVING}: field 1, varint 1. */
const SERVING = Buffer.from([0x08, 0x01]);

let services: SessionServices | undefined;

/**
 * Opens a BuildKit session the way buildctl does (session/session.go): the client calls `Control.Session`, announces
 * its id and the methods it serves in the call's metadata, and then serves gRPC on the HTTP/2 connection whose bytes
 * the stream carries, BuildKit being the gRPC client. Served: the health check BuildKit polls (it drops a session
 * that fails it), `moby.filesync.v1.Auth` from REGISTRY_AUTH_FILE, `moby.filesync.v1.FileSync/DiffCopy` for the dirs.
 */
export function openBuildKitSession(control: ControlClient, name: string, attachables: SessionAttachables): BuildKitSession {
  services ??= buildkitSessionServices();
  const id = randomUUID().replace(/-/g, '');
  const handlers = new Map<string, GrpcHandler>([[HEALTH_CHECK, unary(() => SERVING)]]);
  if (attachables.auth) for (const [path, handler] of authHandlers(services, attachables.auth)) handlers.set(path, handler);
  if (attachables.dirs.size > 0) handlers.set(services.FileSync.DiffCopy.path, diffCopyHandler(services, attachables.dirs));

  const metadata = new Metadata();
  metadata.set('x-docker-expose-session-uuid', id);
  metadata.set('x-docker-expose-session-name', name);
  // BuildKit keys its cache of a local folder by shared key and dir name: one per build keeps builds apart.
  metadata.set('x-docker-expose-session-sharedkey', name);
  for (const path of handlers.keys()) metadata.add('x-docker-expose-session-grpc-method', path);

  const call = control.session(metadata);
  const connection = grpcStreamConnection(call);
  const http2: ServerHttp2Session = performServerHandshake(connection);
  http2.on('error', () => undefined); // the session ends with the build; the solve reports what went wrong
  http2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders?: string[]) =>
    serveGrpcStream(stream, headers, rawHeaders, handlers),
  );
  return {
    id,
    close: () => {
      http2.destroy();
      connection.destroy();
      call.cancel();
    },
  };
}

function unary(answer: (request: Buffer) => Buffer): GrpcHandler {
  return async (call: GrpcCall) => {
    let request: Buffer | null = null;
    for await (const message of call.messages) request = message;
    if (request === null) throw new GrpcError(grpcStatus.INTERNAL, 'no request message');
    await call.send(answer(request));
  };
}

/**
 * `Credentials` answers the registry BuildKit names with what the config.json holds for it (empty: anonymous). The
 * token methods are UNIMPLEMENTED: BuildKit then fetches registry tokens itself with these credentials.
 */
function authHandlers(services: SessionServices, auth: RegistryAuth): [string, GrpcHandler][] {
  const { Credentials, FetchToken, GetTokenAuthority, VerifyTokenAuthority } = services.Auth;
  const credentials = unary((request) => {
    const { Host } = Credentials.requestDeserialize(request) as { Host: string };
    const found = auth.credentials(Host);
    return Credentials.responseSerialize({ Username: found.username, Secret: found.secret });
  });
  const unimplemented: GrpcHandler = async () => {
    throw new GrpcError(grpcStatus.UNIMPLEMENTED, 'registry tokens are not issued by this client');
  };
  return [
    [Credentials.path, credentials],
    [FetchToken.path, unimplemented],
    [GetTokenAuthority.path, unimplemented],
    [VerifyTokenAuthority.path, unimplemented],
  ];
}

function diffCopyHandler(services: SessionServices, dirs: ReadonlyMap<string, readonly ContextEntry[]>): GrpcHandler {
  const { DiffCopy } = services.FileSync;
  const codec: PacketCodec = {
    decode: (bytes) => DiffCopy.requestDeserialize(bytes) as Packet,
    encode: (packet) => DiffCopy.responseSerialize(packet),
  };
  return async (call) => {
    const options = decodedOptions(call.metadata);
    const dirName = options.get('dir-name')?.[0] ?? '';
    const entries = dirs.get(dirName);
    if (!entries) throw new GrpcError(grpcStatus.NOT_FOUND, `no access allowed to dir "${dirName}"`);
    await sendDiffCopy(
      call,
      entries,
      {
        includes: options.get('include-patterns') ?? [],
        excludes: options.get('exclude-patterns') ?? [],
        followPaths: options.get('followpaths') ?? [],
      },
      codec,
    );
  };
}

/** filesync's decodeOpts: a key sent with `<key>-encoded: 1` has URL-query-escaped values (non-ASCII patterns). */
function decodedOptions(metadata: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const options = new Map<string, string[]>();
  for (const [key, values] of metadata) {
    const encoded = ['1', 't', 'true'].includes((metadata.get(`${key}-encoded`)?.[0] ?? '').toLowerCase());
    options.set(
      key,
      values.map((value) => (encoded ? decodeURIComponent(value.replace(/\+/g, ' ')) : value)),
    );
  }
  return options;
}
