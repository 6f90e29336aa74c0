import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { status as grpcStatus } from '@grpc/grpc-js';

/**
 * gRPC served on the HTTP/2 streams of one hand-made session (the bytes of BuildKit's `Control.Session`), where
 * grpc-js's Server cannot listen: request headers name `/<service>/<method>`, every message is 1 byte compressed
 * flag + 4 bytes big-endian length + protobuf, the answer ends with `grpc-status`/`grpc-message` trailers.
 */
export class GrpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** One call as its handler sees it: the request's metadata (every value of a repeated key), its messages, a sender. */
export type GrpcCall = Readonly<{
  metadata: ReadonlyMap<string, readonly string[]>;
  messages: AsyncIterable<Buffer>;
  send: (message: Buffer) => Promise<void>;
}>;

export type GrpcHandler = (call: GrpcCall) => Promise<void>;

/** Messages bigger than this are refused: the session carries small requests and 32 KiB file chunks. */
const MAX_MESSAGE_BYTES = 16 * 2 ** 20;

/** Answers one incoming stream with the handler its path names; an unknown path gets UNIMPLEMENTED, as grpc-go says it. */
export function serveGrpcStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[] | undefined,
  handlers: ReadonlyMap<string, GrpcHandler>,
): void {
  stream.on('error', () => undefined); // a peer's reset ends the call; the handler sees its messages end
  const path = String(headers[constants.HTTP2_HEADER_PATH] ?? '');
  const handler = handlers.get(path);
  if (!String(headers[constants.HTTP2_HEADER_CONTENT_TYPE] ?? '').startsWith('application/grpc'))
    return trailersOnly(stream, grpcStatus.INTERNAL, 'content-type is not application/grpc');
  if (!handler) return trailersOnly(stream, grpcStatus.UNIMPLEMENTED, `unknown method ${path}`);

  stream.respond(
    { [constants.HTTP2_HEADER_STATUS]: 200, [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc' },
    { waitForTrailers: true },
  );
  let outcome: { code: number; message: string } = { code: grpcStatus.OK, message: '' };
  stream.once('wantTrailers', () =>
    stream.sendTrailers({
      'grpc-status': String(outcome.code),
      ...(outcome.message ? { 'grpc-message': encodeURIComponent(outcome.message) } : {}),
    }),
  );
  const send = (message: Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (stream.destroyed || stream.closed) return reject(new GrpcError(grpcStatus.CANCELLED, 'the caller went away'));
      if (stream.write(frame(message))) resolve();
      else stream.once('drain', resolve);
    });
  // A handler may stop reading before the caller ends its side (fsutil's sender returns on FIN): the stream must live
  // on to carry the answer and trailers, so stopping does not destroy it.
  const incoming = stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
  handler({ metadata: metadataOf(rawHeaders, headers), messages: messagesOf(incoming), send })
    .catch((error: unknown) => {
      outcome =
        error instanceof GrpcError
          ? { code: error.code, message: error.message }
          : { code: grpcStatus.UNKNOWN, message: (error as Error).message };
    })
    .finally(() => {
      if (!stream.destroyed && !stream.closed) stream.end();
    });
}

/** A call refused before any answer: status and message in the response headers, as gRPC's "trailers-only" form. */
function trailersOnly(stream: ServerHttp2Stream, code: number, message: string): void {
  stream.respond(
    {
      [constants.HTTP2_HEADER_STATUS]: 200,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': encodeURIComponent(message),
    },
    { endStream: true },
  );
}

export function frame(message: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** The request's length-prefixed messages as they arrive; compressed ones are refused (no encoding was offered). */
async function* messagesOf(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      if (pending[0] !== 0) throw new GrpcError(grpcStatus.INTERNAL, 'compressed messages are not accepted');
      const length = pending.readUInt32BE(1);
      if (length > MAX_MESSAGE_BYTES) throw new GrpcError(grpcStatus.RESOURCE_EXHAUSTED, `message of ${length} bytes`);
      if (pending.length < 5 + length) break;
      yield pending.subarray(5, 5 + length);
      pending = pending.subarray(5 + length);
    }
  }
  if (pending.length > 0) throw new GrpcError(grpcStatus.INTERNAL, 'the request ended inside a message');
}

/** Every value of every key: grpc-go sends a repeated key as repeated headers, which Node's header object would join. */
function metadataOf(rawHeaders: readonly string[] | undefined, headers: IncomingHttpHeaders): Map<string, string[]> {
  const metadata = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    if (name.startsWith(':')) return;
    metadata.set(name.toLowerCase(), [...(metadata.get(name.toLowerCase()) ?? []), value]);
  };
  if (rawHeaders) for (let i = 0; i + 1 < rawHeaders.length; i += 2) add(rawHeaders[i]!, rawHeaders[i + 1]!);
  else for (const [name, value] of Object.entries(headers)) for (const one of [value ?? []].flat()) add(name, String(one));
  return metadata;
}
