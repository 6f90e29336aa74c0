import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class AlreadyRunning extends Error {
  override readonly name = 'AlreadyRunning';
  constructor(
    readonly pid: number,
    dataDir: string,
  ) {
    super(`already running (pid ${pid}) on DATA_DIR ${dataDir}`);
  }
}

export type InstanceLock = Readonly<{ path: string; release: () => void }>;

/**
 * One faasline per DATA_DIR: DATA_DIR/faasline.lock holds the pid and start time of the process that owns the
 * folder, created exclusively. A lock whose process is gone (SIGKILL leaves it behind), is a zombie, or whose pid
 * now belongs to another process (a different start time) is stale and taken over; a live one stops this start
 * with AlreadyRunning before anything in DATA_DIR is touched. Released at exit.
 */
export function acquireInstanceLock(dataDir: string): InstanceLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'faasline.lock');
  const mine = `${process.pid} ${processStartTime(process.pid)}\n`;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      writeFileSync(path, mine, { flag: 'wx', mode: 0o644 });
      const release = () => {
        if (readOrNull(path) === mine) rmSync(path, { force: true });
      };
      process.once('exit', release);
      return { path, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = readOrNull(path);
    if (held === null) continue;
    const [pid, startTime] = held.trim().split(' ').map(Number);
    if (pid && pid !== process.pid && processStartTime(pid) === startTime) throw new AlreadyRunning(pid, dataDir);
    // Stale: removed only if it still says what was read, so two starts racing for it cannot both win.
    if (readOrNull(path) === held) rmSync(path, { force: true });
  }
  throw new Error(`could not take ${path}`);
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Clock ticks since boot at which `pid` started (field 22 of /proc/pid/stat); NaN when gone or a zombie. */
function processStartTime(pid: number): number {
  if (process.platform !== 'linux') return isAlive(pid) ? 0 : Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' ? Number.NaN : Number(fields[19]);
  } catch {
    return Number.NaN;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
