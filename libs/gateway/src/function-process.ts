import { spawn, type ChildProcess } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { backoffDelay, SANDBOX_NODE, SANDBOX_PATH, SANDBOX_PYTHON, type Sandbox, type SandboxedProcess } from '#infra';
import { OutputBudget, OutputLines, type OutputLimits } from './output-lines.js';
import { listenersOn } from './port-listeners.js';

export type LogLine = Readonly<{ name: string; instance: string; timestamp: string; text: string }>;

export type ProcessSpec = Readonly<{
  name: string;
  /** The image folder's build context: where the template's entrypoint lives. */
  cwd: string;
  /** The template's fprocess, e.g. `node index.js`. */
  command: string;
  env: Readonly<Record<string, string>>;
  /** The deployment's limits.memory in bytes: node gets it as its heap limit, python as RLIMIT_DATA; the sandbox bounds all of it. */
  memoryBytes: number | null;
  /** The deployment's limits.cpu in cores: the sandbox's CPU quota. */
  cpus?: number | null;
  secretsDir: string;
  /** null: a bare child process (trusted owners only, see the push policy). */
  sandbox?: Sandbox | null;
  onLog: (line: LogLine) => void;
  /** Where each start listens; a free loopback port by default (tests name a taken one). */
  choosePort?: () => Promise<number>;
  outputLimits?: OutputLimits;
}>;

/** Where a sandboxed function finds its code and its secrets, as in an OpenFaaS container. */
export const SANDBOX_HOME = '/home/app';
export const SANDBOX_SECRETS = '/var/openfaas/secrets';
/** A deployment without limits.memory gets this much, as OpenFaaS Cloud's default profile. */
export const DEFAULT_MEMORY_BYTES = 128 * 2 ** 20;
const SANDBOX_LIMITS = { pids: 128, fileSizeBytes: 64 * 2 ** 20 };
/** A deployment without limits.cpu gets one core; every function may use all cores for its first seconds (start-up). */
export const DEFAULT_CPUS = 1;
const STARTUP = { cpus: availableParallelism(), ms: 5000 };

/**
 * Every function ends with the gateway process that started it, even one killed outright, whatever its template
 * does: the runtime itself checks once a second that its parent is still the gateway (a dead parent's children
 * are handed to init or a subreaper).
 */
const NODE_PARENT_WATCH = `data:text/javascript,${encodeURIComponent(
  'const gateway = Number(process.env.FAASLINE_GATEWAY_PID); if (gateway) setInterval(() => { if (process.ppid !== gateway) process.exit(0) }, 1000).unref();',
)}`;

/**
 * Runs a python entrypoint (`python3 -c <this> <bytes> index.py`) whatever the template: with the parent watch
 * above, and under RLIMIT_DATA when the deployment has a memory limit (0: none). Its heap, brk and private
 * writable mappings (thread stacks too) stay under the limit, and an allocation beyond it raises MemoryError in
 * the handler. The address-space limit (RLIMIT_AS) would also count glibc's 64 MB arena reservations per thread,
 * which a Kubernetes memory limit does not.
 */
const PYTHON_RUNTIME = [
  'import os, resource, runpy, sys, threading, time',
  'gateway = int(os.getenv("FAASLINE_GATEWAY_PID") or 0)',
  'def watch():',
  '    while os.getppid() == gateway:',
  '        time.sleep(1)',
  '    os._exit(0)',
  'if gateway:',
  '    threading.Thread(target=watch, daemon=True).start()',
  'limit = int(sys.argv[1])',
  'hard = resource.getrlimit(resource.RLIMIT_DATA)[1]',
  'if limit > 0:',
  '    limit = limit if hard == resource.RLIM_INFINITY else min(limit, hard)',
  '    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard if hard == resource.RLIM_INFINITY else limit))',
  'sys.argv = sys.argv[2:]',
  'sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))',
  "runpy.run_path(sys.argv[0], run_name='__main__')",
].join('\n');

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });

/** How long one health check may take. */
const HEALTH_TIMEOUT_MS = 1000;
/** How many fresh ports one start tries when something other than the instance answers on its port. */
const PORT_ATTEMPTS = 5;
/** How long a restart has to pass its health check before it is tried again (with the next backoff). */
const RESTART_TIMEOUT_MS = 15_000;
/** A function that keeps dying is restarted less and less often: 1 s, 2 s, 4 s... at most every 30 s. */
const RESTART_BACKOFF = { baseMs: 500, maxMs: 30_000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a start keeps of the function's output for the reason of a crash at start: its first lines, each bounded. */
const STARTUP_OUTPUT = { lines: 40, lineChars: 500 };

/** The function's process ended before its health check answered: its code fails at load time. */
export class FunctionCrashed extends Error {
  override readonly name = 'FunctionCrashed';
  constructor(
    functionName: string,
    /** How it ended: `exit code 1`, `signal SIGKILL`. */
    readonly exit: string,
    /** Its first lines of output (stdout and stderr as they came), each bounded. */
    readonly output: readonly string[],
  ) {
    super(
      `${functionName} ${exit === '' ? 'ended' : `ended (${exit})`} before it was healthy${output.length ? `: ${output.join('\n')}` : ''}`,
    );
  }
}

/** The health answer's header by which a template says it forks a process per call (the classic watchdog's way). */
export const WATCHDOG_HEADER = 'x-faasline-watchdog';

type BringUp = Readonly<{ up: true }> | Readonly<{ up: false; exit: string | null }>;

/**
 * One running instance of a function: a child process from its image folder, listening on a port of its own.
 * It takes traffic (`ready`) once its health check answers and, sandboxed as a uid of its own, once the listener on
 * its port is that uid's: functions share the host's network, so another tenant may be listening on a port it was
 * given. When it dies on its own it stops taking traffic at once and is restarted with backoff on a fresh port,
 * ready again only after the same checks (its old port may have been taken meanwhile).
 */
export class FunctionProcess {
  port = 0;
  inFlight = 0;
  /** Whether requests may go to `port`: false while starting, restarting and stopped. */
  ready = false;
  private child: ChildProcess | SandboxedProcess | null = null;
  private stopped = false;
  private restarts = 0;
  readonly instance = Math.random().toString(36).slice(2, 10);
  /**
   * Whether its template forks a process per call, as the classic watchdog did (its health answer says so): a call
   * cut short ends that call's process with it, so the instance itself goes on serving.
   */
  forksPerCall = false;
  private readonly output: OutputBudget;
  /** The output of the process being started, until it is healthy: quoted when it crashes at start. */
  private startupOutput: string[] | null = null;
  private exit: string | null = null;

  constructor(private readonly spec: ProcessSpec) {
    this.output = new OutputBudget((text) => this.log(text), spec.outputLimits);
  }

  /** Throws FunctionCrashed when the process ended before its health check answered. */
  async start(timeoutMs = 15_000): Promise<void> {
    const outcome = await this.bringUp(timeoutMs);
    if (outcome.up) {
      this.ready = true;
      return;
    }
    await this.stop();
    if (outcome.exit !== null) throw new FunctionCrashed(this.spec.name, outcome.exit, this.startupOutput ?? []);
    throw new Error(`${this.spec.name} did not become healthy within ${Math.round(timeoutMs / 1000)} s`);
  }

  /**
   * One health check on a connection of its own: fetch's shared dispatcher would keep a connection pool for every
   * port a function ever had, memory that stays after the function is stopped (scaled to zero).
   */
  healthy(): Promise<boolean> {
    return new Promise((resolve) => {
      const probe = httpGet({ host: '127.0.0.1', port: this.port, path: '/_/health', agent: false }, (response) => {
        const ok = response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300;
        if (ok) this.forksPerCall = response.headers[WATCHDOG_HEADER] === 'classic';
        response.resume();
        response.once('end', () => finish(ok));
        response.once('error', () => finish(false));
      });
      const timer = setTimeout(() => probe.destroy(), HEALTH_TIMEOUT_MS);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      probe.once('error', () => finish(false));
    });
  }

  /** Stops taking work: waits for requests in flight (up to `drainMs`), then ends the process. */
  async stop(drainMs = 5000): Promise<void> {
    this.stopped = true;
    this.ready = false;
    const deadline = Date.now() + drainMs;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(20);
    if (this.child) await this.end(this.child);
  }

  /**
   * Starts the process on a fresh port until it is healthy and its listener is its own (a few ports at most);
   * false when it exited or did not answer in time with no other uid on its port, or was stopped meanwhile.
   */
  private async bringUp(timeoutMs: number): Promise<BringUp> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; attempt < PORT_ATTEMPTS && !this.stopped; attempt++) {
      this.port = await (this.spec.choosePort ?? freePort)();
      this.startupOutput = [];
      this.exit = null;
      const child = this.launch();
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      let answered = false;
      while (Date.now() < deadline && this.child === child && !this.stopped) {
        if (await this.healthy()) {
          answered = true;
          break;
        }
        await sleep(10);
      }
      const port = await this.portOwnership(child);
      if (answered && (port === 'own' || port === 'unknown') && this.child === child && !this.stopped) {
        this.startupOutput = null;
        return { up: true };
      }
      const crashed = !answered && this.child !== child && !this.stopped && port !== 'foreign';
      await this.end(child);
      if (crashed) {
        // Its last words are read to their end (the exit may come before the pipes are drained), briefly.
        await Promise.race([closed, sleep(1000)]);
        return { up: false, exit: this.exit ?? '' };
      }
      // Another uid on its port: what answered was not this function, or the function could not listen there.
      if (this.stopped || port !== 'foreign') return { up: false, exit: null };
      this.log(`port ${this.port} is taken by another uid: starting again on another port`);
    }
    return { up: false, exit: null };
  }

  /**
   * Sandboxed as a uid of its own: whether the only listener on its port is that uid's, or another uid listens
   * there. Otherwise there is no uid to tell them apart ('unknown', taken as its own).
   */
  private async portOwnership(child: ChildProcess | SandboxedProcess): Promise<'own' | 'foreign' | 'none' | 'unknown'> {
    const uid = 'uid' in child ? (child.uid ?? null) : null;
    if (uid === null) return 'unknown';
    const listeners = await listenersOn(this.port);
    if (listeners.some((listener) => listener.uid !== uid)) return 'foreign';
    return listeners.length > 0 ? 'own' : 'none';
  }

  private async end(child: ChildProcess | SandboxedProcess): Promise<void> {
    if (child.exitCode !== null || ('signalCode' in child && child.signalCode !== null)) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  private log(text: string): void {
    if (this.startupOutput && this.startupOutput.length < STARTUP_OUTPUT.lines)
      this.startupOutput.push(text.slice(0, STARTUP_OUTPUT.lineChars));
    this.spec.onLog({ name: this.spec.name, instance: this.instance, timestamp: new Date().toISOString(), text });
  }

  private launch(): ChildProcess | SandboxedProcess {
    const [program = 'node', ...args] = this.spec.command.split(/\s+/).filter(Boolean);
    if (program !== 'node' && program !== 'python3' && program !== 'python')
      throw new Error(`fprocess ${program} is not supported by the embedded gateway`);
    const child = this.spec.sandbox ? this.spawnSandboxed(program, args) : this.spawnBare(program, args);
    this.child = child;
    for (const stream of [child.stdout!, child.stderr!]) {
      const lines = new OutputLines(this.output);
      stream.on('data', (chunk: Buffer) => lines.push(chunk));
      stream.once('end', () => lines.end());
    }
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      this.exit = signal ? `signal ${signal}` : `exit code ${code}`;
      const wasReady = this.ready;
      // No request goes to its port any more: another tenant may be listening there in a moment.
      this.ready = false;
      this.output.flush();
      // An exit while starting is for bringUp to handle.
      if (wasReady && !this.stopped) void this.restart(`${signal ?? code}`);
    });
    return child;
  }

  private async restart(reason: string): Promise<void> {
    while (!this.stopped) {
      this.restarts += 1;
      const delay = backoffDelay(RESTART_BACKOFF, this.restarts);
      this.log(`exited (${reason}); restarting in ${delay} ms`);
      // Unref: a gateway being stopped does not wait out a backoff.
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      if (this.stopped) return;
      if ((await this.bringUp(RESTART_TIMEOUT_MS)).up) {
        this.startupOutput = null;
        this.ready = !this.stopped;
        return;
      }
      this.startupOutput = null;
      reason = 'not healthy after a restart';
    }
  }

  private spawnBare(program: string, args: string[]): ChildProcess {
    const limit = this.spec.memoryBytes;
    const runtimeArgs =
      program === 'node'
        ? ['--import', NODE_PARENT_WATCH, ...(limit ? [`--max-old-space-size=${Math.max(16, Math.floor(limit / 2 ** 20))}`] : [])]
        : ['-c', PYTHON_RUNTIME, String(limit ?? 0)];
    // Python 2 is gone: the classic `python` template runs on Python 3 too.
    const executable = program === 'node' ? process.execPath : 'python3';
    return spawn(executable, [...runtimeArgs, ...args], {
      cwd: this.spec.cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...this.spec.env,
        PORT: String(this.port),
        FAASLINE_SECRETS_DIR: this.spec.secretsDir,
        FAASLINE_GATEWAY_PID: String(process.pid),
        fprocess: this.spec.command,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /**
   * The function in the sandbox: its code read-only at /home/app, its secrets (handed to its uid) read-only at
   * /var/openfaas/secrets, the whole tree within its memory; bwrap's die-with-parent replaces the parent watch.
   */
  private spawnSandboxed(program: string, args: string[]): SandboxedProcess {
    const limit = this.spec.memoryBytes ?? DEFAULT_MEMORY_BYTES;
    const runtimeArgs =
      program === 'node' ? [`--max-old-space-size=${Math.max(16, Math.floor(limit / 2 ** 20))}`] : ['-c', PYTHON_RUNTIME, String(limit)];
    return this.spec.sandbox!.spawn({
      program: program === 'node' ? SANDBOX_NODE : SANDBOX_PYTHON,
      args: [...runtimeArgs, ...args],
      cwd: SANDBOX_HOME,
      env: {
        PATH: SANDBOX_PATH,
        HOME: '/tmp',
        ...this.spec.env,
        PORT: String(this.port),
        FAASLINE_SECRETS_DIR: SANDBOX_SECRETS,
        fprocess: this.spec.command,
      },
      mounts: [
        { source: this.spec.cwd, target: SANDBOX_HOME },
        { source: this.spec.secretsDir, target: SANDBOX_SECRETS, owner: 'give' },
      ],
      limits: { memoryBytes: limit, cpus: this.spec.cpus ?? DEFAULT_CPUS, startup: STARTUP, ...SANDBOX_LIMITS },
      role: 'function',
    });
  }
}
