const ORIGIN = 'http://faasline.invalid';

/**
 * Where to go after signing in: a path on this server only, so /auth/login cannot be made to send a signed-in
 * browser elsewhere. `//host`, `/\host`, schemes, and any whitespace or control character (which browsers drop,
 * turning `/\t/host` into `//host`) are refused; null means refused.
 */
export function localReturnTo(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return '/';
  if (raw.length > 2048 || !raw.startsWith('/') || raw.startsWith('//') || /[\\\s\p{Cc}]/u.test(raw)) return null;
  if (!URL.canParse(raw, ORIGIN)) return null;
  const url = new URL(raw, ORIGIN);
  return url.origin === ORIGIN ? `${url.pathname}${url.search}${url.hash}` : null;
}
