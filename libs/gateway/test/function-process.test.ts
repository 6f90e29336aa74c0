import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { alive } from './support/test-gateway.js';

const functionProcess = fileURLToPath(new URL('../../../dist/libs/gateway/function-process.js', import.meta.url));
const infra = fileURLToPath(new URL('../../../dist/libs/infra/index.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'faasline-orphans-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Templates that know nothing of faasline: a bare HTTP server answering the health check.
writeFileSync(
  join(work, 'index.js'),
  "require('http').createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')\n",
);
writeFileSync(
  join(work, 'index.py'),
  'import http.server, os\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")\nhttp.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()\n',
);

/** A gateway of its own (a node process) that starts one function with `setup` (which defines `fn`) and keeps running. */
async function gatewayRunning(setup: string): Promise<ChildProcess> {
  const gateway = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { FunctionProcess } from ${JSON.stringify(functionProcess)};
       import { openSandbox } from ${JSON.stringify(infra)};
       ${setup}
       await fn.start();
       console.log('ready');
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    gateway.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    gateway.once('exit', (code) => reject(new Error(`the gateway exited ${code}`)));
  });
  return gateway;
}

describe('function processes', () => {
  it.each([
    ['node', 'node index.js', null],
    ['python', 'python3 index.py', null],
    ['python with a memory limit', 'python3 index.py', 128 * 2 ** 20],
  ])(
    'end with a gateway killed outright, whatever the template (%s)',
    async (_, command, memoryBytes) => {
      const gateway = await gatewayRunning(
        `const fn = new FunctionProcess({ name: 'bare', cwd: ${JSON.stringify(work)}, command: ${JSON.stringify(command)}, env: {}, memoryBytes: ${memoryBytes}, secretsDir: ${JSON.stringify(work)}, onLog: () => {} });`,
      );
      const [fn] = execFileSync('ps', ['-o', 'pid=', '--ppid', String(gateway.pid)])
        .toString()
        .trim()
        .split('\n')
        .map(Number);
      expect(alive(fn!)).toBe(true);
      gateway.kill('SIGKILL');
      await eventually(async () => !alive(fn!), 10_000, `function process ${fn} to end with its gateway`);
    },
    30_000,
  );

  it.each([
    ['node', 'node index.js'],
    ['python', 'python3 index.py'],
  ])(
    'end with a gateway killed outright when sandboxed: the whole tree (%s)',
    async (_, command) => {
      // The image folder as the local builder leaves it (0755) inside a folder only root may enter.
      const app = join(work, `app-${command.split(' ')[0]}`);
      mkdirSync(app, { mode: 0o755 });
      mkdirSync(join(app, 'secrets'), { mode: 0o700 });
      for (const file of ['index.js', 'index.py']) writeFileSync(join(app, file), readFileSync(join(work, file)));
      const gateway = await gatewayRunning(
        `const { sandbox } = await openSandbox({ mode: 'required', uidBase: 63800 });
       const fn = new FunctionProcess({ name: 'boxed', cwd: ${JSON.stringify(app)}, command: ${JSON.stringify(command)}, env: {}, memoryBytes: null, secretsDir: ${JSON.stringify(join(app, 'secrets'))}, sandbox, onLog: () => {} });`,
      );
      const tree = descendants(gateway.pid!);
      expect(tree.length).toBeGreaterThanOrEqual(3); // bwrap, its pid 1, the runtime
      gateway.kill('SIGKILL');
      await eventually(
        async () => tree.every((pid) => !alive(pid)),
        10_000,
        `the sandboxed tree ${tree.join(', ')} to end with its gateway`,
      );
    },
    30_000,
  );
});

/** Every process below `pid`. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const below = (parent: number): number[] =>
    [...parentOf].filter(([, ppid]) => ppid === parent).flatMap(([child]) => [child, ...below(child)]);
  return below(pid);
}
