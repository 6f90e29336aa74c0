import { status as grpcStatus } from '@grpc/grpc-js';
import { Parser } from 'tar';
import type { GrpcCall } from './grpc-h2.server.js';
import { GrpcError } from './grpc-message.codec.js';
import { pathFilter, type PathFilter } from './path-patterns.js';

/** One file or folder of a build context, as fsutil describes it on the wire. */
export type ContextEntry = Readonly<{ path: string; dir: boolean; mode: number; content: Buffer; modTimeNs: number }>;

/** fsutil's Packet (types/wire.proto) as proto-loader reads and writes it (enums by name, int64 as number). */
export type Packet = Readonly<{
  type: 'PACKET_STAT' | 'PACKET_REQ' | 'PACKET_DATA' | 'PACKET_FIN' | 'PACKET_ERR';
  stat?: Readonly<{ path: string; mode: number; uid: number; gid: number; size: number; modTime: number; linkname: string }> | null;
  ID?: number;
  data?: Buffer;
}>;

export type PacketCodec = Readonly<{ decode: (bytes: Buffer) => Packet; encode: (packet: Packet) => Buffer }>;

// Go's os.FileMode bits: fsutil sends `uint32(fi.Mode())`, not the Unix st_mode.
const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SETUID = 1 << 23;
const GO_MODE_SETGID = 1 << 22;
const GO_MODE_STICKY = 1 << 20;
/** fsutil's sender reads files in 32 KiB buffers; each read is one DATA packet. */
const CHUNK_BYTES = 32 * 1024;

/** The context of a Function Builder archive (everything under `context/`), in the order fsutil's walk sends it. */
export function contextEntries(archive: Buffer): ContextEntry[] {
  const entries = new Map<string, ContextEntry>();
  const parser = new Parser({
    onReadEntry: (entry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () => {
        const path = entry.path.replace(/\/+$/, '');
        if (!path.startsWith('context/') || (entry.type !== 'File' && entry.type !== 'Directory')) return;
        const relative = path.slice('context/'.length);
        const modTimeNs = (entry.mtime?.getTime() ?? 0) * 1e6;
        entries.set(relative, {
          path: relative,
          dir: entry.type === 'Directory',
          mode: entry.mode ?? 0o644,
          content: Buffer.concat(chunks),
          modTimeNs,
        });
      });
    },
  });
  parser.end(archive);
  // fsutil's receiver refuses a path whose folder it has not been sent first.
  for (const path of [...entries.keys()]) {
    const parts = path.split('/');
    for (let n = 1; n < parts.length; n += 1) {
      const parent = parts.slice(0, n).join('/');
      if (!entries.has(parent)) entries.set(parent, { path: parent, dir: true, mode: 0o755, content: Buffer.alloc(0), modTimeNs: 0 });
    }
  }
  return [...entries.values()].sort((a, b) => comparePath(a.path, b.path));
}

/** fsutil's ComparePath: byte order, except that the separator sorts before everything (a walk's order). */
export function comparePath(a: string, b: string): number {
  const key = (path: string) => Buffer.from(path.replace(/\//g, '\0'));
  return Buffer.compare(key(a), key(b));
}

/**
 * `FileSync/DiffCopy` from the sending side, as fsutil's send.go: a STAT per entry then an empty STAT; the receiver
 * asks for each regular file's contents by its index in that sequence (REQ), gets them as DATA packets ending with an
 * empty one, and ends with FIN, which is answered with FIN. An ERR from the receiver fails the call with its text.
 */
export async function sendDiffCopy(
  call: GrpcCall,
  entries: readonly ContextEntry[],
  filter: PathFilter,
  codec: PacketCodec,
): Promise<void> {
  const keep = pathFilter(filter);
  const sent = withKeptParents(entries, keep);
  const files = new Map<number, ContextEntry>();
  const send = (packet: Packet) => call.send(codec.encode(packet));

  const stats = (async () => {
    for (const [index, entry] of sent.entries()) {
      if (!entry.dir) files.set(index, entry);
      await send({ type: 'PACKET_STAT', stat: statOf(entry) });
    }
    await send({ type: 'PACKET_STAT' });
  })();
  stats.catch(() => undefined); // awaited below; a broken stream also ends the receiving loop

  for await (const bytes of call.messages) {
    const packet = codec.decode(bytes);
    if (packet.type === 'PACKET_ERR')
      throw new GrpcError(grpcStatus.UNKNOWN, `error from receiver: ${packet.data?.toString('utf8') ?? ''}`);
    if (packet.type === 'PACKET_FIN') {
      await stats;
      await send({ type: 'PACKET_FIN' });
      return;
    }
    if (packet.type !== 'PACKET_REQ') continue;
    const id = packet.ID ?? 0;
    const file = files.get(id);
    if (!file) throw new GrpcError(grpcStatus.UNKNOWN, `invalid file id ${id}`);
    files.delete(id);
    for (let offset = 0; offset < file.content.length; offset += CHUNK_BYTES)
      await send({ type: 'PACKET_DATA', ID: id, data: file.content.subarray(offset, offset + CHUNK_BYTES) });
    await send({ type: 'PACKET_DATA', ID: id });
  }
  throw new GrpcError(grpcStatus.CANCELLED, 'the receiver ended the copy without FIN');
}

/** The wanted entries and every folder above one (fsutil's filter walks into them, and sends them first). */
function withKeptParents(entries: readonly ContextEntry[], keep: (path: string) => boolean): ContextEntry[] {
  const kept = new Set<string>();
  for (const entry of entries) {
    if (!keep(entry.path)) continue;
    const parts = entry.path.split('/');
    for (let n = 1; n <= parts.length; n += 1) kept.add(parts.slice(0, n).join('/'));
  }
  return entries.filter((entry) => kept.has(entry.path));
}

function statOf(entry: ContextEntry) {
  const special =
    (entry.mode & 0o4000 ? GO_MODE_SETUID : 0) + (entry.mode & 0o2000 ? GO_MODE_SETGID : 0) + (entry.mode & 0o1000 ? GO_MODE_STICKY : 0);
  return {
    path: entry.path,
    mode: (entry.dir ? GO_MODE_DIR : 0) + special + (entry.mode & 0o777),
    uid: 0,
    gid: 0,
    size: entry.dir ? 0 : entry.content.length,
    modTime: entry.modTimeNs,
    linkname: '',
  };
}
