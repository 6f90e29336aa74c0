import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BubblewrapSandbox, type BubblewrapTools } from './bubblewrap.adapter.js';
import { detectCgroups } from './cgroups.js';
import { SANDBOX_NODE, SANDBOX_PATH, type Sandbox } from './sandbox.port.js';

export type SandboxMode = 'auto' | 'off' | 'required';

export type SandboxSettings = Readonly<{
  mode: SandboxMode;
  uidBase: number;
  uidCount?: number;
  /** `rlimits`: leave cgroups alone even where they work (what a machine without them gets). */
  limits?: 'auto' | 'rlimits';
}>;

/** A working sandbox, or null with the reason there is none (said at start; untrusted owners are then refused). */
export type SandboxDetection = Readonly<{ sandbox: Sandbox; reason: null } | { sandbox: null; reason: string }>;

const find = (...paths: string[]) => paths.find((path) => existsSync(path)) ?? null;

/**
 * Whether processes can be contained here: bubblewrap and its helpers present, and a trial run that proves it —
 * node starts as the target uid, reads a folder bound from a place that uid cannot enter (a 0700 temporary folder),
 * and is not root.
 */
export async function openSandbox(settings: SandboxSettings): Promise<SandboxDetection> {
  if (settings.mode === 'off') return { sandbox: null, reason: 'SANDBOX=off' };
  const detection = await detect(settings);
  if (detection.sandbox === null && settings.mode === 'required')
    throw new Error(`SANDBOX=required but no working sandbox: ${detection.reason}`);
  return detection;
}

async function detect(settings: SandboxSettings): Promise<SandboxDetection> {
  if (process.platform !== 'linux') return { sandbox: null, reason: `bubblewrap needs Linux, this is ${process.platform}` };
  const root = process.getuid?.() === 0;
  const tools: BubblewrapTools = {
    bwrap: find('/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap') ?? '',
    setpriv: root ? find('/usr/bin/setpriv', '/bin/setpriv') : null,
    prlimit: find('/usr/bin/prlimit', '/bin/prlimit') ?? '',
    sh: find('/bin/sh', '/usr/bin/sh') ?? '',
    unshare: root ? find('/usr/bin/unshare', '/bin/unshare') : null,
  };
  if (!tools.bwrap) return { sandbox: null, reason: 'bubblewrap is not installed (apt-get install bubblewrap)' };
  if (root && !tools.setpriv)
    return { sandbox: null, reason: 'setpriv (util-linux) is not installed: running as root, it is needed to drop to an unprivileged uid' };
  if (root && !tools.unshare) return { sandbox: null, reason: 'unshare (util-linux) is not installed' };
  if (!tools.prlimit) return { sandbox: null, reason: 'prlimit (util-linux) is not installed' };
  if (!tools.sh) return { sandbox: null, reason: 'no /bin/sh' };
  if (!existsSync(SANDBOX_NODE))
    return { sandbox: null, reason: `${SANDBOX_NODE} is missing: functions run on the system's node inside the sandbox` };
  const cgroups = settings.limits === 'rlimits' ? 'rlimits asked for' : detectCgroups();
  const sandbox = new BubblewrapSandbox({
    tools,
    uidBase: settings.uidBase,
    uidCount: settings.uidCount ?? 1000,
    cgroups: typeof cgroups === 'string' ? null : cgroups,
  });
  const failure = await trial(sandbox);
  return failure === null ? { sandbox, reason: null } : { sandbox: null, reason: failure };
}

async function trial(sandbox: Sandbox): Promise<string | null> {
  // The folder mkdtemp makes is 0700, as DATA_DIR's may be: the trial proves the stub mounts reach inside.
  const dir = await mkdtemp(join(tmpdir(), 'faasline-sandbox-probe-'));
  try {
    await mkdir(join(dir, 'app'), { mode: 0o755 });
    await writeFile(
      join(dir, 'app', 'probe.js'),
      "process.stdout.write('uid ' + process.getuid() + ' ' + require('fs').readdirSync('/home/app').join(','))\n",
      { mode: 0o644 },
    );
    const child = sandbox.spawn({
      program: SANDBOX_NODE,
      args: ['/home/app/probe.js'],
      cwd: '/home/app',
      env: { PATH: SANDBOX_PATH },
      mounts: [{ source: join(dir, 'app'), target: '/home/app' }],
      limits: { memoryBytes: 256 * 2 ** 20, cpus: 1, pids: 64, fileSizeBytes: 2 ** 20 },
      role: 'function',
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((resolve) => {
      child.once('error', (error) => {
        output += error.message;
        resolve(-1);
      });
      child.once('exit', (exit) => resolve(exit));
    });
    clearTimeout(timer);
    const match = /^uid (\d+) probe\.js$/.exec(output.trim());
    if (code !== 0 || !match) return `a trial run failed (exit ${code}): ${output.trim().split('\n').slice(-1)[0]?.slice(0, 200) ?? ''}`;
    if (match[1] === '0') return 'a trial run ran as root inside the sandbox';
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
