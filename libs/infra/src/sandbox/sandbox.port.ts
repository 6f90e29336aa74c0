import type { Readable } from 'node:stream';

/**
 * A folder made visible inside the sandbox. It may sit anywhere the server can reach (inside a 0700 `/root`),
 * whatever the sandbox's uid may enter: such a folder is first bind-mounted by root onto a stub the uid can reach,
 * in a private mount namespace of that sandbox alone.
 */
export type SandboxMount = Readonly<{
  source: string;
  /** Where it appears inside; the same absolute path as `source` keeps paths in arguments valid. */
  target: string;
  writable?: boolean;
  /**
   * When the sandbox runs as a dedicated uid: `lend` hands the folder (recursively) to that uid for the run and
   * takes it back afterwards (a build's staging folder); `give` hands it over for good (a function's secrets, a
   * cache the same uid keeps using): once the folder is the uid's, what the uid writes in it stays its own, so it is
   * not walked again. Unset: ownership is left alone, so only world-readable files are readable.
   */
  owner?: 'lend' | 'give';
}>;

export type SandboxLimits = Readonly<{
  /** All memory of the process tree (heap, Buffers, native, tmpfs pages), not only V8's heap. */
  memoryBytes: number;
  /** CPU time in cores (0.5 = half a core), a hard quota. */
  cpus: number;
  /**
   * A start-up boost: this many cores for the first `startupMs`, then `cpus`. Node's start is multi-threaded, and a
   * 1-core quota alone would throttle every cold start by tens of milliseconds. Where only rlimits exist: no CPU quota.
   */
  startup?: Readonly<{ cpus: number; ms: number }>;
  /** Processes and threads of the tree. */
  pids: number;
  /** Largest file it may write. */
  fileSizeBytes: number;
}>;

export type SandboxSpec = Readonly<{
  /** Absolute path of the program inside the sandbox (the system's own: /usr/bin/node, /usr/bin/python3). */
  program: string;
  args: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string>>;
  mounts: readonly SandboxMount[];
  limits: SandboxLimits;
  /** `build`: every build runs as one build uid (they share the package caches); `function`: a uid of its own. */
  role: 'function' | 'build';
  /** Ends the whole tree when aborted. */
  signal?: AbortSignal;
}>;

/**
 * What a caller needs of a running sandbox: its output, a way to stop it, and one `exit` once the whole tree is
 * gone and its resources (cgroup, lent folders) are released.
 */
export interface SandboxedProcess {
  readonly pid?: number | undefined;
  /**
   * The unprivileged uid of its own the tree runs as (when faasline is root), known once `spawn` returns; null when
   * it runs as faasline's own uid (or a build's shared one) and so cannot be told apart by uid.
   */
  readonly uid?: number | null;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exitCode: number | null;
  /** Signals the sandbox; any signal ends it (bwrap dies and takes its pid namespace with it). */
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'exit' | 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: 'exit' | 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', listener: (error: Error) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

export interface Sandbox {
  /** One line for the start-up log: how processes are contained (uids, cgroups or rlimits). */
  readonly description: string;
  spawn(spec: SandboxSpec): SandboxedProcess;
}

/** Where a node or python program lives inside the sandbox: the system's, never one under /root or the installation. */
export const SANDBOX_NODE = '/usr/bin/node';
export const SANDBOX_PYTHON = '/usr/bin/python3';
export const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';
