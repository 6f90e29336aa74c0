import { fileURLToPath } from 'node:url';
import {
  credentials,
  loadPackageDefinition,
  type CallOptions,
  type ChannelCredentials,
  type ClientReadableStream,
  type ClientUnaryCall,
  type GrpcObject,
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
  Frontend: string;
  FrontendAttrs: Readonly<Record<string, string>>;
  ExporterDeprecated: string;
  ExporterAttrsDeprecated: Readonly<Record<string, string>>;
  Exporters: readonly Readonly<{ Type: string; Attrs: Readonly<Record<string, string>> }>[];
}>;

export type SolveResponse = Readonly<{ ExporterResponse: Readonly<Record<string, string>> }>;

/** The two calls of BuildKit's Control service a build makes, typed as the .proto declares them. */
export type ControlClient = Readonly<{
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
  const { Status: status, Solve: solve } = Control.service;
  if (!status || !solve) throw new Error('control.proto declares no Status or Solve');
  return {
    status: (request) => client.makeServerStreamRequest(status.path, status.requestSerialize, status.responseDeserialize, request),
    solve: (request, options, done) =>
      client.makeUnaryRequest(solve.path, solve.requestSerialize, solve.responseDeserialize, request, options, done),
  };
}
