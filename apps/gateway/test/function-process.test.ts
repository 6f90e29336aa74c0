import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../../../libs/infra/test/support/backbones.js';

const functionProcess = fileURLToPath(new URL('../../../dist/apps/gateway/function-process.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'faasline-orphans-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Templates that know nothing of faasline: a bare HTTP server answering the health check.
writeFileSync(join(work, 'index.js'), "require('http').createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')\n");
writeFileSync(
  join(work, 'index.py'),
  'import http.server, os\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")\nhttp.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()\n',
);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('function processes', () => {
  it.each([
    ['node', 'node index.js', null],
    ['python', 'python3 index.py', null],
    ['python with a memory limit', 'python3 index.py', 128 * 2 ** 20],
  ])('end with a gateway killed outright, whatever the template (%s)', async (_, command, memoryBytes) => {
    const gateway = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { FunctionProcess } from ${JSON.stringify(functionProcess)};
         const fn = new FunctionProcess({ name: 'bare', cwd: ${JSON.stringify(work)}, command: ${JSON.stringify(command)}, env: {}, memoryBytes: ${memoryBytes}, secretsDir: ${JSON.stringify(work)}, onLog: () => {} });
         await fn.start();
         console.log('ready');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      gateway.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      gateway.once('exit', (code) => reject(new Error(`the gateway exited ${code}`)));
    });
    const [fn] = execFileSync('ps', ['-o', 'pid=', '--ppid', String(gateway.pid)]).toString().trim().split('\n').map(Number);
    expect(alive(fn!)).toBe(true);
    gateway.kill('SIGKILL');
    await eventually(async () => !alive(fn!), 10_000, `function process ${fn} to end with its gateway`);
  }, 30_000);
});
