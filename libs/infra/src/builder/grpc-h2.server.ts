import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { status as grpcStatus } from '@grpc/grpc-js';
import { GrpcError, grpcFrame, grpcMessages } from './grpc-message.codec.js';

/** One call as its handler sees it: the request's metadata (every value of a repeated key), its messages, a sender. */
export type GrpcCall = Readonly<{
  metadata: ReadonlyMap<string, readonly string[]>;
  messages: AsyncIterable<Buffer>;
  send: (message: Buffer) => Promise<void>;
}>;

export type GrpcHandler = (call: GrpcCall) => Promise<void>;

/**
 * gRPC served on one incoming HTTP/2 stream of a hand-made session (the bytes of BuildKit's `Control.Session`),
 * where grpc-js's Server cannot listen: the request headers name `/<service>/<method>`, messages are framed as
 * `grpcFrame` writes them, the answer ends with `grpc-status`/`grpc-message` trailers. An unknown path gets
 * UNIMPLEMENTED, as grpc-go says it.
 */
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
      if (stream.write(grpcFrame(message))) resolve();
      else stream.once('drain', resolve);
    });
  // A handler may stop reading before the caller ends its side (fsutil's sender returns on FIN): the stream must live
  // on to carry the answer and trailers, so stopping does not destroy it.
  const incoming = stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
  handler({ metadata: metadataOf(rawHeaders, headers), messages: grpcMessages(incoming, 'request'), send })
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
