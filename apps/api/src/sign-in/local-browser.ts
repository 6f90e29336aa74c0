/** Requests as Fastify gives them: the peer's address and the headers. */
export type PeerRequest = Readonly<{ ip: string; headers: Readonly<Record<string, string | string[] | undefined>> }>;

const LOOPBACK_ADDRESS = /^(?:127(?:\.\d{1,3}){3}|::1|::ffff:127(?:\.\d{1,3}){3})$/;
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
/** Headers a reverse proxy adds: behind one, a loopback peer says nothing about who is really asking. */
const FORWARDING = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'];

/**
 * Whether the request comes from a browser on this machine: a loopback peer, no proxy in between, and a loopback
 * `Host` (a page on another site that rebinds its DNS name to 127.0.0.1 still sends its own name as Host).
 */
export function isLocalBrowser(request: PeerRequest): boolean {
  if (!LOOPBACK_ADDRESS.test(request.ip)) return false;
  if (FORWARDING.some((name) => request.headers[name] !== undefined)) return false;
  const host = request.headers.host;
  if (typeof host !== 'string' || !URL.canParse(`http://${host}`)) return false;
  const name = new URL(`http://${host}`).hostname.toLowerCase();
  return LOOPBACK_NAMES.includes(name) || /^127(?:\.\d{1,3}){3}$/.test(name);
}
