import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  chmodSync,
  existsSync,
  realpathSync,
  rmSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  type Stats,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { chmod, lchown, lstat, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Cgroups, ControlGroup } from './cgroups.js';
import { SANDBOX_PATH, type Sandbox, type SandboxedProcess, type SandboxSpec } from './sandbox.port.js';

export type BubblewrapTools = Readonly<{ bwrap: string; setpriv: string | null; prlimit: string; sh: string; unshare: string | null }>;

export type BubblewrapOptions = Readonly<{
  tools: BubblewrapTools;
  /** Dedicated uids when this process is root: the build uid is `uidBase`, functions get `uidBase + 1 …`. */
  uidBase: number;
  uidCount: number;
  /** null: no cgroups here; limits fall back to rlimits. */
  cgroups: Cgroups | null;
}>;

/** How long a sandbox's last output is read after bwrap exits (see BubblewrapProcess.run). */
const OUTPUT_GRACE_MS = 1000;

/** System folders every sandbox sees read-only; /bin, /lib… are symlinks into /usr on merged-/usr systems. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** What of /etc node, python, npm and pip read: TLS roots, name resolution, the linker cache, time zone. */
const ETC_FILES = [
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/host.conf',
  '/etc/gai.conf',
  '/etc/nsswitch.conf',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/localtime',
  '/etc/alternatives',
  '/etc/mime.types',
  '/etc/npmrc',
  '/etc/pip.conf',
  '/etc/python3',
  '/etc/python3.11',
];

/**
 * Joins the cgroups named first (nothing runs outside them, not for a moment), bind-mounts each given folder on a
 * stub the sandbox uid can reach (only when root, inside a private mount namespace of its own), then execs the rest.
 * The stubs matter when DATA_DIR sits in a folder other users cannot enter (/root is 0700): bwrap, already running
 * as the unprivileged uid, resolves its bind sources by path, so it binds the stubs instead.
 */
const PREPARE = [
  'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done',
  'n=$1; shift; while [ "$n" -gt 0 ]; do mount -i -n -c --bind "$1" "$2" || exit 125; shift 2; n=$((n - 1)); done',
  'exec "$@"',
].join('\n');

/**
 * Runs each process in bubblewrap: its own pid, ipc, uts and user namespaces, a root made of the system read-only
 * and the given folders, a private /proc and /tmp, the host's network (functions serve the gateway on loopback and
 * call out). As root it first becomes a dedicated unprivileged uid (setpriv): a user namespace made by root maps
 * back to root, which would leave root-owned files readable by ownership.
 */
export class BubblewrapSandbox implements Sandbox {
  readonly description: string;
  private readonly root = process.getuid?.() === 0;
  private readonly functionUids = new Set<number>();
  private nextUid = 1;
  private stubs: string | undefined;

  constructor(private readonly options: BubblewrapOptions) {
    const uids = this.root
      ? `uids ${options.uidBase}–${options.uidBase + options.uidCount - 1}`
      : `uid ${process.getuid?.()} (faasline's own, not root)`;
    const limits = options.cgroups
      ? `${options.cgroups.description}, file size by rlimit`
      : 'rlimits (no cgroups: memory by RLIMIT_DATA, processes by RLIMIT_NPROC, no CPU share)';
    this.description = `bubblewrap, ${uids}, ${limits}`;
  }

  spawn(spec: SandboxSpec): SandboxedProcess {
    return new BubblewrapProcess(this, spec);
  }

  /** @internal */ acquireUid(role: SandboxSpec['role']): number {
    if (!this.root) return process.getuid!();
    if (role === 'build') return this.options.uidBase;
    for (let tries = 0; tries < this.options.uidCount; tries++) {
      const uid = this.options.uidBase + this.nextUid;
      this.nextUid = (this.nextUid % (this.options.uidCount - 1)) + 1;
      if (!this.functionUids.has(uid)) {
        this.functionUids.add(uid);
        return uid;
      }
    }
    throw new Error(`sandbox: all ${this.options.uidCount - 1} function uids are in use`);
  }

  /** @internal */ releaseUid(uid: number): void {
    this.functionUids.delete(uid);
  }

  /** @internal */ command(spec: SandboxSpec, uid: number, group: ControlGroup | null): { file: string; args: string[] } {
    const { tools } = this.options;
    // No nested user namespaces: inside one a process holds every capability over its own mounts, a large kernel surface.
    const bwrap = [
      tools.bwrap,
      '--unshare-user',
      '--disable-userns',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-cgroup-try',
      '--die-with-parent',
      '--new-session',
    ];
    for (const dir of SYSTEM_DIRS) {
      const info = lstatOrNull(dir);
      if (info?.isSymbolicLink()) bwrap.push('--symlink', readlinkSync(dir), dir);
      else if (info?.isDirectory()) bwrap.push('--ro-bind', dir, dir);
    }
    for (const file of ETC_FILES) bwrap.push('--ro-bind-try', file, file);
    bwrap.push('--proc', '/proc', '--dev', '/dev', '--size', String(spec.limits.memoryBytes), '--tmpfs', '/tmp');
    // Every source by its real path, resolved once here: what is checked is what is bound, and no symlink met later
    // (one a build left where a folder was) redirects root's bind mount.
    const sources = spec.mounts.map((mount) => realpathSync(mount.source));
    // A folder the uid can reach is bound as it is; only the others need a stub (and a mount, ~4 ms each).
    const stubs = sources.map((source, index) => (this.root && !reachable(source) ? this.stub(index) : source));
    spec.mounts.forEach((mount, index) => bwrap.push(mount.writable ? '--bind' : '--ro-bind', stubs[index]!, mount.target));
    bwrap.push('--chdir', spec.cwd, '--', spec.program, ...spec.args);
    const rlimits = [`--fsize=${spec.limits.fileSizeBytes}`, '--core=0'];
    if (!group)
      rlimits.push(`--nproc=${this.root ? spec.limits.pids : tasksOf(uid) + spec.limits.pids}`, `--data=${spec.limits.memoryBytes}`);
    const dropped = this.root ? [tools.setpriv!, `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', ...bwrap] : bwrap;
    const procs = group?.procsFiles ?? [];
    const binds = sources.flatMap((source, index) => (stubs[index] === source ? [] : [source, stubs[index]!]));
    const prepare = [
      tools.sh,
      '-c',
      PREPARE,
      'sandbox',
      String(procs.length),
      ...procs,
      String(binds.length / 2),
      ...binds,
      tools.prlimit,
      ...rlimits,
      '--',
      ...dropped,
    ];
    // Root's bind mounts stay in a mount namespace of this sandbox's own.
    return binds.length > 0
      ? { file: tools.unshare!, args: ['--mount', '--propagation', 'private', '--', ...prepare] }
      : { file: prepare[0]!, args: prepare.slice(1) };
  }

  /** Empty folders, 0755 and root's, on which a sandbox's private mount namespace mounts its folders. */
  private stub(index: number): string {
    if (this.stubs === undefined) {
      // Those of a server that was killed (its pid gone) are empty leftovers.
      for (const entry of readdirSync(tmpdir())) {
        const pid = /^faasline-sandbox-mounts-(\d+)-/.exec(entry)?.[1];
        if (pid && !existsSync(`/proc/${pid}`)) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
      }
      const stubs = mkdtempSync(join(tmpdir(), `faasline-sandbox-mounts-${process.pid}-`));
      chmodSync(stubs, 0o755);
      process.once('exit', () => rmSync(stubs, { recursive: true, force: true }));
      this.stubs = stubs;
    }
    const path = join(this.stubs, String(index));
    mkdirSync(path, { recursive: true, mode: 0o755 });
    return path;
  }

  /** @internal */ get cgroups(): Cgroups | null {
    return this.options.cgroups;
  }

  /** @internal */ get dropsUid(): boolean {
    return this.root;
  }
}

class BubblewrapProcess extends EventEmitter implements SandboxedProcess {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  exitCode: number | null = null;
  uid: number | null = null;
  private child: ChildProcess | null = null;
  private pendingSignal: NodeJS.Signals | null = null;

  constructor(
    private readonly sandbox: BubblewrapSandbox,
    private readonly spec: SandboxSpec,
  ) {
    super();
    const abort = () => this.kill('SIGKILL');
    spec.signal?.addEventListener('abort', abort, { once: true });
    if (spec.signal?.aborted) abort();
    void this.run().finally(() => spec.signal?.removeEventListener('abort', abort));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exitCode !== null) return false;
    if (this.child) return this.child.kill(signal);
    // Still handing folders over: it never starts.
    this.pendingSignal = signal;
    return true;
  }

  private async run(): Promise<void> {
    const { sandbox, spec } = this;
    let uid: number | null = null;
    let group: ControlGroup | null = null;
    let code: number | null = null;
    let signal: NodeJS.Signals | null = null;
    let boost: NodeJS.Timeout | undefined;
    try {
      uid = sandbox.acquireUid(spec.role);
      // Set before the first await, so before spawn() returns: a caller checks what listens on its port by this uid.
      if (sandbox.dropsUid && spec.role === 'function') this.uid = uid;
      // Folders handed to the uid before it starts (off the event loop: a package cache can be large).
      if (sandbox.dropsUid)
        for (const mount of spec.mounts)
          if (mount.owner === 'lend' || (mount.owner === 'give' && !(await ownedBy(mount.source, uid)))) await chownTree(mount.source, uid);
      if (this.pendingSignal) throw new Error(`stopped (${this.pendingSignal}) before it started`);
      group = sandbox.cgroups?.create(`${spec.role}-${randomUUID()}`, spec.limits) ?? null;
      const { file, args } = sandbox.command(spec, uid, group);
      const child = spawn(file, args, { env: { PATH: SANDBOX_PATH, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
      this.child = child;
      const started = group;
      if (started && spec.limits.startup) boost = setTimeout(() => started.setCpus(spec.limits.cpus), spec.limits.startup.ms).unref();
      child.stdout.pipe(this.stdout);
      child.stderr.pipe(this.stderr);
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (exit, killedBy) => resolve([exit, killedBy]));
      });
      // The last output is read to its end, briefly: the sandbox's own init can outlive a killed bwrap and keep
      // the pipes open, and that must not hold the exit back (the cgroup below ends it).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, OUTPUT_GRACE_MS)))]);
      clearTimeout(timer);
      child.stdout.unpipe(this.stdout);
      child.stderr.unpipe(this.stderr);
      child.stdout.destroy();
      child.stderr.destroy();
      this.stdout.end();
      this.stderr.end();
    } catch (error) {
      this.stdout.end();
      this.stderr.end();
      // Like a child that could not be spawned: 'error' for who listens, then 'exit' (a supervisor restarts on it).
      if (this.listenerCount('error') > 0) this.emit('error', error as Error);
    } finally {
      clearTimeout(boost);
      // bwrap is gone, so its pid namespace is gone; the cgroup catches anything that was never in it.
      await group?.destroy();
      if (sandbox.dropsUid)
        for (const mount of spec.mounts) if (mount.owner === 'lend') await reclaimTree(mount.source).catch(() => undefined);
      if (uid !== null && spec.role === 'function') sandbox.releaseUid(uid);
      this.exitCode = code ?? (signal ? 128 : 1);
      this.emit('exit', code, signal);
      this.emit('close', code, signal);
    }
  }
}

/** Whether any user may look up `real` (a real path): every folder above it searchable by others. */
function reachable(real: string): boolean {
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    const info = lstatOrNull(dir);
    if (!info || (info.mode & 0o001) === 0) return false;
    if (dir === '/') return true;
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

const ownedBy = async (path: string, uid: number) => (await lstat(path)).uid === uid;

/** Hands a folder to `uid`: owner of everything in it, so it can read (and, when bound writable, write) it. */
async function chownTree(path: string, uid: number): Promise<void> {
  const info = await lstat(path);
  if (info.uid !== uid || info.gid !== uid) await lchown(path, uid, uid);
  if (!info.isDirectory()) return;
  await Promise.all((await readdir(path)).map((entry) => chownTree(join(path, entry), uid)));
}

/**
 * Takes a lent folder back: root owns it again, everyone may read it, nobody else may write it (whatever modes
 * the build chose, a function running as another uid must read its own files). It runs once nothing of the
 * sandbox is left, and never follows a link: symlinks get lchown only; a file of the uid's with more than one
 * name could be a hard link to a file elsewhere, which chown and chmod would change too, so it is removed; FIFOs,
 * sockets and devices go as well (root must never open one of a build's).
 */
async function reclaimTree(path: string, top = true): Promise<void> {
  const info = await lstat(path);
  const owner = process.getuid!();
  if (!top && !info.isDirectory() && !info.isSymbolicLink() && (!info.isFile() || (info.nlink > 1 && info.uid !== owner)))
    return void (await rm(path, { force: true }));
  if (info.uid !== owner || info.gid !== owner) await lchown(path, owner, owner);
  if (info.isSymbolicLink()) return;
  const mode = info.mode & 0o7777;
  const wanted = (mode | 0o444 | (info.isDirectory() || mode & 0o100 ? 0o111 : 0)) & ~0o7022;
  if (wanted !== mode) await chmod(path, wanted);
  if (info.isDirectory()) await Promise.all((await readdir(path)).map((entry) => reclaimTree(join(path, entry), false)));
}

/** Tasks (processes and threads) `uid` runs now: RLIMIT_NPROC counts them all, so a limit is added on top. */
function tasksOf(uid: number): number {
  let count = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(status)) count += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
    } catch {
      // gone meanwhile
    }
  }
  return count;
}
