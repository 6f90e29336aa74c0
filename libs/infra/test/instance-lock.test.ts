import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireInstanceLock, AlreadyRunning } from '#infra';

/** DATA_DIR/faasline.lock: a live owner stops a second start; whatever a killed one left behind does not. */
describe('the instance lock', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'faasline-lock-'));
  const lockFile = join(dataDir, 'faasline.lock');
  const startTimeOf = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  };
  /** Acquired: the file now names this process; released: the file is gone. */
  const expectTakenOver = () => {
    const lock = acquireInstanceLock(dataDir);
    expect(readFileSync(lockFile, 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+\\n$`));
    lock.release();
    expect(() => readFileSync(lockFile)).toThrow();
  };
  afterEach(() => rmSync(lockFile, { force: true }));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is refused while the process that holds it lives', () => {
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(lockFile, `${holder.pid} ${startTimeOf(holder.pid!)}\n`);
      expect(() => acquireInstanceLock(dataDir)).toThrow(new AlreadyRunning(holder.pid!, dataDir));
      expect(readFileSync(lockFile, 'utf8')).toBe(`${holder.pid} ${startTimeOf(holder.pid!)}\n`);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('is taken over from a process killed without a chance to release it', () => {
    const gone = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    writeFileSync(lockFile, `${gone} 12345\n`);
    expectTakenOver();
  });

  it('is taken over when its pid now belongs to another process (different start time)', () => {
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(lockFile, `${other.pid} ${startTimeOf(other.pid!) - 1}\n`);
      expectTakenOver();
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('is taken over when its process is a zombie nobody reaped', async () => {
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(
        await new Promise<string>((resolve) => parent.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))),
      );
      let startTime = Number.NaN;
      for (let waited = 0; waited < 5000; waited += 50) {
        const stat = readFileSync(`/proc/${zombie}/stat`, 'utf8');
        startTime = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      writeFileSync(lockFile, `${zombie} ${startTime}\n`);
      expectTakenOver();
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
