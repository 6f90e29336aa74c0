import { EventEmitter } from 'node:events';
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { status as grpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import { buildkitSessionServices, grpcFrame, grpcMessages, grpcStreamConnection, type BytesMessage } from '#infra';

/**
 * BuildKit's side of a client session, for the fake daemon: it accepts `Control.Session` as buildkitd's session
 * manager does (session/manager.go: id, shared key and served methods from the metadata), and speaks HTTP/2 gRPC
 * as the client over the stream's bytes, as buildkitd does (session/grpc.go). On it: the health check, `Auth`
 * (Credentials, GetTokenAuthority) and `FileSync/DiffCopy` as fsutil's receiver (receive.go, validator.go).
 */
export type ClientSession = Readonly<{ id: string; sharedKey: string; methods: ReadonlySet<string>; http2: ClientHttp2Session }>;

type Status = { code: number; message: string };

export class FakeSessionManager {
  private readonly sessions = new Map<string, ClientSession>();
  private readonly arrivals = new EventEmitter().setMaxListeners(0);

  /** `Control.Session`: the stream stays open as long as the client's session. */
  accept(call: ServerDuplexStream<BytesMessage, BytesMessage>): void {
    const first = (key: string) => String(call.metadata.get(key)[0] ?? '');
    const id = first('x-docker-expose-session-uuid');
    if (!id) {
      call.emit('error', { code: grpcStatus.INVALID_ARGUMENT, details: 'x-docker-expose-session-uuid is required' });
      return;
    }
    // One header field per method on the wire; Node joins repeated fields with ", " (no method URL has a comma).
    const methods = new Set(
      call.metadata
        .get('x-docker-expose-session-grpc-method')
        .flatMap((value) => String(value).split(','))
        .map((method) => method.trim().toLowerCase()),
    );
    const connection = grpcStreamConnection(call);
    const http2 = connect('http://localhost', { createConnection: () => connection });
    http2.on('error', () => undefined);
    const session: ClientSession = { id, sharedKey: first('x-docker-expose-session-sharedkey'), methods, http2 };
    this.sessions.set(id, session);
    const gone = () => {
      if (this.sessions.get(id) === session) this.sessions.delete(id);
      http2.destroy();
    };
    connection.on('close', gone);
    http2.on('close', gone);
    this.arrivals.emit(id);
  }

  /** Like the session manager's Get: waits for the session a solve names, then gives up as buildkitd does. */
  async get(id: string, timeoutMs = 5_000): Promise<ClientSession> {
    const known = this.sessions.get(id);
    if (known) return known;
    return new Promise<ClientSession>((resolve, reject) => {
      const arrived = () => {
        clearTimeout(timer);
        resolve(this.sessions.get(id)!);
      };
      const timer = setTimeout(() => {
        this.arrivals.off(id, arrived);
        reject(new Error(`no active session for ${id}: context deadline exceeded`));
      }, timeoutMs);
      this.arrivals.once(id, arrived);
    });
  }

  close(): void {
    for (const session of this.sessions.values()) session.http2.destroy();
    this.sessions.clear();
  }
}

let services: ReturnType<typeof buildkitSessionServices> | undefined;
const sessionServices = () => (services ??= buildkitSessionServices());

/** One gRPC call on the session, as grpc-go's client frames it; `status` settles with the trailers. */
function grpcCall(session: ClientSession, path: string, metadata: OutgoingHttpHeaders = {}) {
  const stream = session.http2.request({
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: path,
    [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
    te: 'trailers',
    ...metadata,
  });
  const status = new Promise<Status>((resolve) => {
    const fromHeaders = (headers: IncomingHttpHeaders) =>
      headers['grpc-status'] === undefined
        ? null
        : { code: Number(headers['grpc-status']), message: decodeURIComponent(String(headers['grpc-message'] ?? '')) };
    stream.on('response', (headers) => {
      const trailersOnly = fromHeaders(headers);
      if (trailersOnly) resolve(trailersOnly);
    });
    stream.on('trailers', (trailers) => resolve(fromHeaders(trailers) ?? { code: grpcStatus.INTERNAL, message: 'no grpc-status' }));
    stream.on('close', () => resolve({ code: grpcStatus.UNAVAILABLE, message: 'the session closed the call without a status' }));
    stream.on('error', () => undefined);
  });
  const send = (message: Buffer) => void stream.write(grpcFrame(message));
  return { send, end: () => stream.end(), messages: grpcMessages(stream as AsyncIterable<Buffer>, 'answer'), status };
}

async function unary(session: ClientSession, path: string, request: Buffer): Promise<{ status: Status; response: Buffer | null }> {
  const call = grpcCall(session, path);
  call.send(request);
  call.end();
  let response: Buffer | null = null;
  for await (const message of call.messages) {
    if (response !== null) throw new Error(`${path} answered more than one message`);
    response = message;
  }
  const status = await call.status;
  if (status.code === grpcStatus.OK && response === null) throw new Error(`${path} answered OK with no message`);
  return { status, response };
}

/** What buildkitd polls every 5 s; a session that fails it is dropped. */
export async function checkHealth(session: ClientSession): Promise<void> {
  const { status, response } = await unary(session, '/grpc.health.v1.Health/Check', Buffer.alloc(0));
  if (status.code !== grpcStatus.OK || !response?.equals(Buffer.from([0x08, 0x01])))
    throw new Error(`session healthcheck failed fatally: ${status.message || 'not SERVING'}`);
}

/**
 * What buildkitd's authorizer asks a session for a registry host: first whether it signs tokens
 * (GetTokenAuthority: UNIMPLEMENTED or UNAVAILABLE means no), then Credentials (UNIMPLEMENTED means anonymous).
 */
export async function sessionCredentials(session: ClientSession, host: string): Promise<{ username: string; secret: string }> {
  const { Credentials, GetTokenAuthority } = sessionServices().Auth;
  const authority = await unary(
    session,
    GetTokenAuthority.path,
    GetTokenAuthority.requestSerialize({ Host: host, Salt: Buffer.alloc(32) }),
  );
  if (![grpcStatus.UNIMPLEMENTED, grpcStatus.UNAVAILABLE].includes(authority.status.code))
    throw new Error(`GetTokenAuthority: the fake does not sign tokens, and the session answered ${authority.status.code}`);
  const { status, response } = await unary(session, Credentials.path, Credentials.requestSerialize({ Host: host }));
  if (status.code === grpcStatus.UNIMPLEMENTED) return { username: '', secret: '' };
  if (status.code !== grpcStatus.OK) throw new Error(`resolving credentials from session: ${status.message}`);
  const answer = Credentials.responseDeserialize(response!) as { Username: string; Secret: string };
  return { username: answer.Username, secret: answer.Secret };
}

export type ReceivedEntry = Readonly<{ path: string; mode: number; size: number; dir: boolean; content: Buffer | null }>;

// Go's os.FileMode: ModeDir | ModeSymlink | ModeNamedPipe | ModeSocket | ModeDevice | ModeCharDevice | ModeIrregular.
const GO_MODE_TYPE = 2 ** 31 + (1 << 27) + (1 << 25) + (1 << 24) + (1 << 26) + (1 << 21) + (1 << 19);
const GO_MODE_DIR = 2 ** 31;
const PACKET_TYPES = ['PACKET_STAT', 'PACKET_REQ', 'PACKET_DATA', 'PACKET_FIN', 'PACKET_ERR'];

type Packet = {
  type: string | number;
  stat: { path: string; mode: number; size: number; linkname: string } | null;
  ID: number;
  data: Buffer;
};

/**
 * `FileSync/DiffCopy` as fsutil's receiver: options in the call's metadata (dir-name, followpaths, ...; values
 * that are not plain ASCII query-escaped with `<key>-encoded: 1`, as filesync's encodeOpts), every STAT checked as
 * fsutil's Validator does (clean, relative, in walk order, folder before its contents), a REQ per regular file by
 * its index among the STATs, its DATA until an empty one, FIN once all came, then the sender's FIN and the end.
 */
export async function diffCopy(
  session: ClientSession,
  dirName: string,
  options: Readonly<{ followPaths?: readonly string[]; excludes?: readonly string[]; includes?: readonly string[] }> = {},
): Promise<Map<string, ReceivedEntry>> {
  const { DiffCopy } = sessionServices().FileSync;
  // As filesync.FSSync: a session that did not announce DiffCopy in its metadata lends no local dirs.
  if (!session.methods.has(DiffCopy.path.toLowerCase())) throw new Error('no local sources enabled');
  const metadata: OutgoingHttpHeaders = {};
  const option = (key: string, values: readonly string[] | undefined) => {
    if (!values || values.length === 0) return;
    const encode = values.some((value) => /[^\x20-\x7e]/.test(value));
    metadata[key] = encode ? values.map((value) => encodeURIComponent(value)) : [...values];
    if (encode) metadata[`${key}-encoded`] = '1';
  };
  option('dir-name', [dirName]);
  option('followpaths', options.followPaths);
  option('exclude-patterns', options.excludes);
  option('include-patterns', options.includes);
  const call = grpcCall(session, DiffCopy.path, metadata);
  const send = (packet: object) => call.send(DiffCopy.requestSerialize(packet));

  const received = new Map<string, ReceivedEntry>();
  const requested = new Map<number, { path: string; chunks: Buffer[] }>();
  const validate = walkOrderValidator();
  let index = 0;
  let statsDone = false;
  let finSent = false;
  let finReceived = false;
  try {
    for await (const bytes of call.messages) {
      const packet = DiffCopy.responseDeserialize(bytes) as Packet;
      if (!PACKET_TYPES.includes(String(packet.type))) throw new Error(`unknown packet type ${String(packet.type)}`);
      if (finReceived) throw new Error(`${String(packet.type)} after FIN`);
      switch (packet.type) {
        case 'PACKET_ERR':
          throw new Error(`error from sender: ${packet.data.toString('utf8')}`);
        case 'PACKET_STAT': {
          if (statsDone) throw new Error('STAT after the last STAT');
          if (!packet.stat) {
            statsDone = true;
            break;
          }
          const { path, mode, size } = packet.stat;
          const dir = (mode & GO_MODE_DIR) !== 0;
          validate(path, dir);
          const regular = (mode & GO_MODE_TYPE) === 0;
          received.set(path, { path, mode, size, dir, content: regular ? null : Buffer.alloc(0) });
          if (regular) {
            requested.set(index, { path, chunks: [] });
            send({ type: 'PACKET_REQ', ID: index });
          }
          index += 1;
          break;
        }
        case 'PACKET_DATA': {
          const file = requested.get(packet.ID);
          if (!file) throw new Error(`invalid file request ${packet.ID}`);
          if (packet.data.length > 0) {
            file.chunks.push(packet.data);
            break;
          }
          const content = Buffer.concat(file.chunks);
          const entry = received.get(file.path)!;
          if (content.length !== entry.size) throw new Error(`${file.path}: stat said ${entry.size} bytes, ${content.length} came`);
          received.set(file.path, { ...entry, content });
          requested.delete(packet.ID);
          break;
        }
        case 'PACKET_FIN':
          if (!finSent) throw new Error('FIN from the sender before the receiver asked');
          finReceived = true;
          break;
        case 'PACKET_REQ':
          throw new Error('REQ from the sender');
      }
      if (statsDone && requested.size === 0 && !finSent) {
        finSent = true;
        send({ type: 'PACKET_FIN' });
        call.end();
      }
    }
  } catch (error) {
    send({ type: 'PACKET_ERR', data: Buffer.from((error as Error).message) });
    call.end();
    throw error;
  }
  const status = await call.status;
  if (status.code !== grpcStatus.OK) throw new Error(`DiffCopy ${dirName}: ${status.message} (gRPC ${status.code})`);
  if (!finReceived) throw new Error(`DiffCopy ${dirName}: the sender ended without FIN`);
  return received;
}

/** fsutil's Validator: clean relative paths, in walk order (separator before every byte), each folder before its contents. */
function walkOrderValidator(): (path: string, dir: boolean) => void {
  const parents: { dir: string; last: string }[] = [{ dir: '', last: '' }];
  return (path, dir) => {
    const clean = path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
    if (!clean || path.startsWith('/')) throw new Error(`unclean or absolute path ${JSON.stringify(path)}`);
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? '' : path.slice(0, slash);
    const base = path.slice(slash + 1);
    while (parents.length > 1 && parents.at(-1)!.dir !== parent && !parent.startsWith(`${parents.at(-1)!.dir}/`)) parents.pop();
    const top = parents.at(-1)!;
    if (top.dir !== parent || (top.last !== '' && Buffer.compare(Buffer.from(top.last), Buffer.from(base)) >= 0))
      throw new Error(`changes out of order: "${path}" after "${top.dir ? `${top.dir}/` : ''}${top.last}"`);
    top.last = base;
    if (dir) parents.push({ dir: path, last: '' });
  };
}
