// The load: a real captured push delivery (~8 KB). faasline records a push once, so every request is a new push
// of it (its own `repository.pushed_at`, as GitHub gives each push), signed, with its own delivery id.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const SECRET = 'bench-webhook-secret';
const captured = readFileSync(new URL('../../test/fixtures/github/ofc-sample-json/push-apr.json', import.meta.url), 'utf8');

let pushes = 0;

/** Each load process numbers its pushes from its own start, so two runs never send the same push. */
export function numberPushesFrom(first) {
  pushes = first;
}

export function nextPush() {
  const body = captured.replace(/"pushed_at": \d+/, `"pushed_at": ${2_000_000_000 + pushes++}`);
  return { body, signature: `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` };
}
