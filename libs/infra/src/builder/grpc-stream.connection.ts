import { Duplex } from 'node:stream';
import { status as grpcStatus, type ClientDuplexStream, type ServerDuplexStream } from '@grpc/grpc-js';
import type { BytesMessage } from './buildkit-proto.js';

type BytesCall = ClientDuplexStream<BytesMessage, BytesMessage> | ServerDuplexStream<BytesMessage, BytesMessage>;

/**
 * A `Control.Session` stream as the byte connection HTTP/2 runs on (grpchijack's streamToConn): the client's end
 * serves gRPC over it, BuildKit's end (the fake daemon) calls over it.
 */
export function grpcStreamConnection(call: BytesCall): Duplex {
  const connection = new Duplex({
    read: () => call.resume(),
    // Done once grpc-js has passed the bytes on: HTTP/2 flow control then paces a large context.
    write: (chunk: Buffer, _encoding, done) => void call.write({ data: chunk }, done),
    final: (done) => {
      call.end();
      done();
    },
  });
  call.on('data', (message: BytesMessage) => {
    if (!connection.push(message.data)) call.pause();
  });
  call.on('end', () => connection.push(null));
  call.on('error', (error: Error & { code?: number }) => {
    // CANCELLED is the client's own close after the solve.
    if (error.code === grpcStatus.CANCELLED) connection.push(null);
    else connection.destroy(error);
  });
  // On BuildKit's end: the client went away.
  call.on('cancelled', () => connection.destroy());
  return connection;
}
