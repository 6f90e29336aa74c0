import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxLimits } from './sandbox.port.js';

const ROOT = '/sys/fs/cgroup';
const PERIOD_US = 100_000;

/** One sandbox's control groups: the files its wrapper writes its pid to, and how to empty and remove them. */
export type ControlGroup = Readonly<{
  /** `cgroup.procs` files, one per hierarchy: the wrapper joins them before it execs, so every descendant is inside. */
  procsFiles: readonly string[];
  /** Changes the CPU quota (after a start-up boost). */
  setCpus(cpus: number): void;
  /** SIGKILLs whatever is still inside, then removes the groups. */
  destroy(): Promise<void>;
}>;

export type Cgroups = Readonly<{
  /** `v1 (memory, pids, cpu)` or `v2 (memory, pids, cpu)`. */
  description: string;
  create(id: string, limits: SandboxLimits): ControlGroup;
}>;

/** This process's own group in a hierarchy, from /proc/self/cgroup (`N:controllers:/path`). */
function ownPath(controller: string | null): string {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (controller === null ? line.startsWith('0::') : controllers!.split(',').includes(controller)) return path;
  }
  return '/';
}

const write = (file: string, value: string) => writeFileSync(file, value);
const quota = (cpus: number) => Math.max(1000, Math.round(cpus * PERIOD_US));
/** A group may be gone already (the sandbox ended) when a timer changes it. */
const ignoreGone = (change: (cpus: number) => void) => (cpus: number) => {
  try {
    change(cpus);
  } catch {
    // removed meanwhile
  }
};

/**
 * The cgroups this process may manage, or the reason there are none. v1 controllers (memory, pids, cpu, each its
 * own hierarchy) or a pure v2 hierarchy; groups go under this process's own group, in a `faasline-<pid>` parent.
 */
export function detectCgroups(): Cgroups | string {
  if (process.getuid?.() !== 0) return 'not root: cgroups are not delegated to this user';
  if (existsSync(join(ROOT, 'cgroup.controllers'))) return detectV2();
  const controllers = ['memory', 'pids', 'cpu'] as const;
  const missing = controllers.filter((name) => !existsSync(join(ROOT, name, 'cgroup.procs')));
  if (missing.length > 0) return `no cgroup v1 ${missing.join(', ')} controller at ${ROOT} and no cgroup v2 hierarchy`;
  const parents = Object.fromEntries(
    controllers.map((name) => [name, join(ROOT, name, ownPath(name), `faasline-${process.pid}`)]),
  ) as Record<(typeof controllers)[number], string>;
  for (const name of controllers) removeStale(join(ROOT, name, ownPath(name)));
  try {
    for (const parent of Object.values(parents)) mkdirSync(parent, { recursive: true });
  } catch (error) {
    return `cannot create a cgroup: ${(error as Error).message}`;
  }
  removeAtExit(Object.values(parents));
  const swap = existsSync(join(parents.memory, 'memory.memsw.limit_in_bytes'));
  return {
    description: 'cgroup v1 (memory, pids, cpu)',
    create(id, limits) {
      const groups = controllers.map((name) => join(parents[name], id));
      for (const group of groups) mkdirSync(group, { recursive: true });
      const [memory, pids, cpu] = groups as [string, string, string];
      write(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // With swap accounting, memory + swap gets the same bound: swapping out is no way around it.
      if (swap) write(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      write(join(pids, 'pids.max'), String(limits.pids));
      write(join(cpu, 'cpu.cfs_period_us'), String(PERIOD_US));
      const setCpus = (cpus: number) => write(join(cpu, 'cpu.cfs_quota_us'), String(quota(cpus)));
      setCpus(limits.startup?.cpus ?? limits.cpus);
      return {
        procsFiles: groups.map((group) => join(group, 'cgroup.procs')),
        setCpus: ignoreGone(setCpus),
        destroy: () => destroy(groups),
      };
    },
  };
}

function detectV2(): Cgroups | string {
  const own = join(ROOT, ownPath(null));
  const parent = join(own, `faasline-${process.pid}`);
  try {
    removeStale(own);
    const available = readFileSync(join(own, 'cgroup.controllers'), 'utf8').split(/\s+/);
    const missing = ['memory', 'pids', 'cpu'].filter((name) => !available.includes(name));
    if (missing.length > 0) return `cgroup v2 without the ${missing.join(', ')} controller for this process's group`;
    mkdirSync(parent, { recursive: true });
    try {
      write(join(own, 'cgroup.subtree_control'), '+memory +pids +cpu');
    } catch {
      // A group with processes cannot hand controllers down (v2's no-internal-process rule): this process moves to a
      // leaf of its own first, as container runtimes do.
      const leaf = join(own, 'faasline-server');
      mkdirSync(leaf, { recursive: true });
      for (const pid of readFileSync(join(own, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) write(join(leaf, 'cgroup.procs'), pid);
      write(join(own, 'cgroup.subtree_control'), '+memory +pids +cpu');
    }
    write(join(parent, 'cgroup.subtree_control'), '+memory +pids +cpu');
    removeAtExit([parent]);
  } catch (error) {
    return `cannot set up cgroup v2 groups: ${(error as Error).message}`;
  }
  return {
    description: 'cgroup v2 (memory, pids, cpu)',
    create(id, limits) {
      const group = join(parent, id);
      mkdirSync(group, { recursive: true });
      write(join(group, 'memory.max'), String(limits.memoryBytes));
      if (existsSync(join(group, 'memory.swap.max'))) write(join(group, 'memory.swap.max'), '0');
      write(join(group, 'pids.max'), String(limits.pids));
      const setCpus = (cpus: number) => write(join(group, 'cpu.max'), `${quota(cpus)} ${PERIOD_US}`);
      setCpus(limits.startup?.cpus ?? limits.cpus);
      return { procsFiles: [join(group, 'cgroup.procs')], setCpus: ignoreGone(setCpus), destroy: () => destroy([group]) };
    },
  };
}

/** Groups a killed server left (`faasline-<pid>` of a pid that is gone): empty once its sandboxes died with it. */
function removeStale(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = /^faasline-(\d+)$/.exec(entry)?.[1];
    if (!pid || existsSync(`/proc/${pid}`)) continue;
    try {
      for (const child of readdirSync(join(dir, entry), { withFileTypes: true }))
        if (child.isDirectory()) rmdirSync(join(dir, entry, child.name));
      rmdirSync(join(dir, entry));
    } catch {
      // still in use: left alone
    }
  }
}

/** The per-server parent groups go when the server does (each sandbox's own group is removed when it ends). */
function removeAtExit(groups: readonly string[]): void {
  process.once('exit', () => {
    for (const group of groups) {
      try {
        rmdirSync(group);
      } catch {
        // a group still in use stays; the kernel keeps it until it empties
      }
    }
  });
}

/** Kills what is left in the groups (a process that escaped its parent's death) until they are empty, then removes them. */
async function destroy(groups: readonly string[]): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const pids = groups.flatMap((group) => {
      try {
        return readFileSync(join(group, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
      } catch {
        return [];
      }
    });
    if (pids.length === 0) break;
    for (const pid of new Set(pids)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const group of groups) {
    try {
      rmdirSync(group);
    } catch {
      // still busy after 2 s: the kernel frees it when the last process is reaped
    }
  }
}
