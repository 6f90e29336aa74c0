import { fileURLToPath } from 'node:url';
import { credentials, loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
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
