import { readFile } from 'node:fs/promises';

export type Listener = Readonly<{ address: string; uid: number }>;

const LISTEN = '0A';

/**
 * The listening sockets on `port` in a /proc/net/tcp or /proc/net/tcp6 table (the kernel's hex: local address,
 * state, and the uid that owns the socket), whatever their address.
 */
export function listenersIn(table: string, port: number): Listener[] {
  const listeners: Listener[] = [];
  for (const row of table.split('\n').slice(1)) {
    const fields = row.trim().split(/\s+/);
    if (fields.length < 8 || fields[3] !== LISTEN) continue;
    const [address, hexPort] = fields[1]!.split(':');
    if (Number.parseInt(hexPort ?? '', 16) !== port) continue;
    listeners.push({ address: address!, uid: Number(fields[7]) });
  }
  return listeners;
}

/**
 * Every listening TCP socket on `port` of this network namespace (functions share the host's). The kernel lets two
 * sockets listen on one port only when both ask (SO_REUSEPORT) and both belong to one uid, so while a listener of a
 * function's own uid lives, no other tenant can receive that port's traffic.
 */
export async function listenersOn(port: number): Promise<Listener[]> {
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((path) => readFile(path, 'utf8').catch(() => '')));
  return tables.flatMap((table) => listenersIn(table, port));
}
