// The load: a real captured push delivery (~8 KB), signed once; every request gets its own delivery id.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const SECRET = 'bench-webhook-secret';
export const body = readFileSync(new URL('../../test/fixtures/github/ofc-sample-json/push-apr.json', import.meta.url), 'utf8');
export const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
