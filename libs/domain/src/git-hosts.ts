/**
 * GIT_ALLOWED_HOSTS: which hosts git may fetch from. Entries are `host` (default port only), `host:port` or
 * `host:*` (any port: `faasline push` serves on a free one). Both sides are compared in their canonical form, so
 * a host written another way is the same host: WHATWG URL parsing turns IPv4 in any notation (`127.1`,
 * `0x7f000001`, `2130706433`, `0177.0.0.1`) into dotted decimal and lower-cases names; on top of that an
 * IPv4-mapped IPv6 address (`[::ffff:127.0.0.1]`) is its IPv4 address and a trailing dot is dropped.
 */
export type HostRule = Readonly<{ hostname: string; port: string | '*' | null }>;

/** The canonical form of a URL's `hostname` (as `new URL` gives it): what allow-list entries are compared with. */
export function canonicalHost(hostname: string): string {
  let host = hostname.toLowerCase();
  // `new URL` writes every spelling of an IPv4-mapped address as `[::ffff:hhhh:hhhh]`.
  const mapped = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(host);
  if (mapped) {
    const high = Number.parseInt(mapped[1]!, 16);
    const low = Number.parseInt(mapped[2]!, 16);
    host = [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return host.endsWith('.') && !host.startsWith('[') ? host.slice(0, -1) : host;
}

/** An allow-list entry in canonical form, or null when it is not `host`, `host:port` or `host:*`. */
export function parseHostRule(entry: string): HostRule | null {
  const anyPort = entry.endsWith(':*');
  const text = anyPort ? entry.slice(0, -2) : entry;
  if (text === '' || /[/?#@\\\s]/.test(text)) return null;
  let url: URL;
  try {
    url = new URL(`http://${text}`);
  } catch {
    return null;
  }
  if (anyPort && url.port !== '') return null;
  // `new URL` drops :80 for http; an entry naming it still means that port only.
  const port = anyPort ? '*' : (/:(\d+)$/.exec(text)?.[1] ?? null);
  return { hostname: canonicalHost(url.hostname), port: port === null ? null : port === '*' ? '*' : String(Number(port)) };
}

/** Whether `url` (parsed with `new URL`) points at a host the list allows, in any spelling of that host. */
export function isAllowedHost(url: URL, allowedHosts: readonly string[]): boolean {
  const hostname = canonicalHost(url.hostname);
  return allowedHosts.some((entry) => {
    const rule = parseHostRule(entry);
    if (rule === null || rule.hostname !== hostname) return false;
    if (rule.port === '*') return true;
    return rule.port === null ? url.port === '' : (url.port === '' ? defaultPort(url) : url.port) === rule.port;
  });
}

const defaultPort = (url: URL) => (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
