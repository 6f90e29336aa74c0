import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REGISTRY_SH = fileURLToPath(new URL('../../deploy/local/registry.sh', import.meta.url));

export type AuthRegistry = Readonly<{ url: string; host: string; stop: () => void }>;

/**
 * Debian's docker-registry requiring credentials (htpasswd auth) on a free loopback port, through
 * deploy/local/registry.sh. The bcrypt htpasswd file is written by apache2-utils' `htpasswd -B`, the password given on
 * its stdin so it shows in no process list.
 */
export function startAuthRegistry(user: string, password: string, port: number): AuthRegistry {
  const state = mkdtempSync(join(tmpdir(), 'faasline-auth-registry-'));
  const htpasswd = join(state, 'htpasswd');
  execFileSync('htpasswd', ['-iBc', htpasswd, user], { input: password, stdio: ['pipe', 'ignore', 'pipe'] });
  const env = { ...process.env, REGISTRY_PORT: String(port), REGISTRY_STATE_DIR: join(state, 'registry'), REGISTRY_HTPASSWD: htpasswd };
  const started = execFileSync('bash', [REGISTRY_SH, 'start'], { env, stdio: ['ignore', 'pipe', 'inherit'] })
    .toString()
    .trim();
  const url = started
    .split('\n')
    .at(-1)!
    .replace(/^REGISTRY_URL=/, '');
  return {
    url,
    host: new URL(url).host,
    stop: () => {
      execFileSync('bash', [REGISTRY_SH, 'stop'], { env, stdio: 'ignore' });
      rmSync(state, { recursive: true, force: true });
    },
  };
}
