import { fileURLToPath } from 'node:url';
import {
  credentials,
  loadPackageDefinition,
  type CallOptions,
  type ChannelCredentials,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientUnaryCall,
  type GrpcObject,
  type Metadata,
  type MethodDefinition,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** `libs/infra/proto` from the source tree and from dist alike (both sit four folders below the project root). */
const PROTO_DIR = fileURLToPath(new URL('../../../../libs/infra/proto/buildkit', import.meta.url));

/** BuildKit's Control service from our .proto; field names kept as BuildKit spells them. */
export function buildkitControl(): { Control: ServiceClientConstructor } {
  const definition = loadSync('control.proto', { includeDirs: [PROTO_DIR], keepCase: true, longs: Number, defaults: true, enums: String });
  const v1 = ((loadPackageDefinition(definition).moby as GrpcObject).buildkit as GrpcObject).v1 as GrpcObject;
  return v1 as never;
}

/** The services a client serves back on a BuildKit session: registry credentials and local files, BuildKit's names. */
export type SessionServices = Readonly<{
  Auth: Readonly<Record<'Credentials' | 'FetchToken' | 'GetTokenAuthority' | 'VerifyTokenAuthority', MethodDefinition<object, object>>>;
  FileSync: Readonly<Record<'DiffCopy' | 'TarStream', MethodDefinition<object, object>>>;
}>;

/** `session/auth/auth.proto` and `session/filesync/filesync.proto` (with fsutil's wire.proto), as BuildKit vendors them. */
export function buildkitSessionServices(): SessionServices {
  const definition = loadSync(['session/auth/auth.proto', 'session/filesync/filesync.proto'], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: Number,
    defaults: true,
    enums: String,
  });
  return { Auth: definition['moby.filesync.v1.Auth'] as never, FileSync: definition['moby.filesync.v1.FileSync'] as never };
}

/** `tcp://host:port` → `host:port`; `unix:///path` stays as grpc-js reads it. */
export const grpcTarget = (address: string) => (address.startsWith('tcp://') ? address.slice('tcp://'.length) : address);

export const insecureChannel = () => credentials.createInsecure();

/** The parts of BuildKit's StatusResponse the build log shows. */
export type StatusResponse = Readonly<{
  vertexes: readonly Readonly<{ digest: string; name: string; cached: boolean; error: string; completed: unknown }>[];
  logs: readonly Readonly<{ vertex: string; msg: Buffer }>[];
}>;

export type SolveRequest = Readonly<{
  Ref: string;
  /** The id of the session BuildKit asks for credentials and local files; '' for none. */
  Session: string;
  Frontend: string;
  FrontendAttrs: Readonly<Record<string, string>>;
  ExporterDeprecated: string;
  ExporterAttrsDeprecated: Readonly<Record<string, string>>;
  Exporters: readonly Readonly<{ Type: string; Attrs: Readonly<Record<string, string>> }>[];
}>;

export type SolveResponse = Readonly<{ ExporterResponse: Readonly<Record<string, string>> }>;

export type BytesMessage = Readonly<{ data: Buffer }>;

/** The calls of BuildKit's Control service a build makes, typed as the .proto declares them. */
export type ControlClient = Readonly<{
  /** The stream a session's bytes travel in; the metadata announces the session (x-docker-expose-session-*). */
  session(metadata: Metadata): ClientDuplexStream<BytesMessage, BytesMessage>;
  status(request: Readonly<{ Ref: string }>): ClientReadableStream<StatusResponse>;
  solve(request: SolveRequest, options: CallOptions, done: (error: ServiceError | null, response?: SolveResponse) => void): ClientUnaryCall;
}>;

/**
 * A Control client over the given channel (plaintext unless told). grpc-js types a loaded service's methods as
 * untyped functions, so the calls go through the client's generic requests with the service's own (de)serialisers.
 */
export function controlClient(address: string, channel: ChannelCredentials = insecureChannel()): ControlClient {
  const { Control } = buildkitControl();
  const client = new Control(grpcTarget(address), channel);
  const { Status: status, Solve: solve, Session: session } = Control.service;
  if (!status || !solve || !session) throw new Error('control.proto declares no Status, Solve or Session');
  return {
    session: (metadata) => client.makeBidiStreamRequest(session.path, session.requestSerialize, session.responseDeserialize, metadata, {}),
    status: (request) => client.makeServerStreamRequest(status.path, status.requestSerialize, status.responseDeserialize, request),
    solve: (request, options, done) =>
      client.makeUnaryRequest(solve.path, solve.requestSerialize, solve.responseDeserialize, request, options, done),
  };
}
