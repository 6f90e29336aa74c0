import { status as grpcStatus } from '@grpc/grpc-js';

// gRPC's message framing over HTTP/2, for both ends of a hand-made session: every message is 1 byte compressed
// flag + 4 bytes big-endian length + protobuf. No encoding is ever offered, so a compressed message is refused.

/** A call's failure with its gRPC status code, sent as the `grpc-status` trailer. */
export class GrpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Messages bigger than this are refused: the session carries small requests and 32 KiB file chunks. */
const MAX_MESSAGE_BYTES = 16 * 2 ** 20;

export function grpcFrame(message: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** The length-prefixed messages of one side of a call (`what`: the request or the answer, for errors) as they arrive. */
export async function* grpcMessages(stream: AsyncIterable<Buffer>, what: 'request' | 'answer'): AsyncGenerator<Buffer> {
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
  if (pending.length > 0) throw new GrpcError(grpcStatus.INTERNAL, `the ${what} ended inside a message`);
}
