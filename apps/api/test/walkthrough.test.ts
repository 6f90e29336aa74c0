import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { bareEnv, root } from './support/spawn-api.js';

/** The commands of the README's walkthrough, exactly as printed there. */
function walkthrough(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Walkthrough'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

/** A fresh copy of the repository: what git tracks (or would), without node_modules, dist or data. */
function freshCopy(): string {
  const copy = mkdtempSync(join(tmpdir(), 'faasline-walkthrough-'));
  // Like a clone: readable by others. As root, embedded PostgreSQL runs as a `postgres` user that must reach DATA_DIR.
  chmodSync(copy, 0o755);
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root })
    .toString()
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    const source = join(root, file);
    let mode: number;
    try {
      mode = statSync(source).mode;
    } catch {
      continue; // deleted in the working tree
    }
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    copyFileSync(source, join(copy, file));
    chmodSync(join(copy, file), mode);
  }
  return copy;
}

describe('the README walkthrough, verbatim, on a fresh copy', () => {
  let copy: string | null = null;
  let server: ChildProcess | null = null;

  afterAll(async () => {
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGINT');
      } catch {
        // already gone
      }
      await new Promise((resolve) => {
        server!.once('exit', resolve);
        setTimeout(resolve, 15_000);
      });
    }
    if (copy) rmSync(copy, { recursive: true, force: true });
    rmSync('/tmp/hello', { recursive: true, force: true });
  });

  it('goes from a fresh clone to curl getting an answer from a pushed node20 function', async () => {
    const [start, ...steps] = walkthrough();
    expect(start).toBe('npm install && npm start');
    expect(steps.at(-1)).toMatch(/^curl /);
    copy = freshCopy();
    rmSync('/tmp/hello', { recursive: true, force: true });
    const env = bareEnv();
    let output = '';
    server = spawn('bash', ['-c', start!], { cwd: copy, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(async () => /functions answer at/.test(output), 240_000, 'npm start to be up').catch((error: Error) => {
      throw new Error(`${error.message}\n${output.slice(-3000)}`);
    });
    expect(output).toMatch(/webhook URL: http:\/\/127\.0\.0\.1:8080\/webhooks\/github/);
    expect(output).toMatch(/webhook secret: stored in .*\.faasline\/secrets\/github-webhook-secret/);
    expect(output).toMatch(/admin token: stored in .*\.faasline\/secrets\/admin-token/);
    expect(output).toMatch(/link key: stored in .*\.faasline\/secrets\/links-secret/);
    expect(output).toMatch(/OpenFaaS gateway: embedded at http:\/\/127\.0\.0\.1:8081/);

    let last = '';
    for (const step of steps) last = execFileSync('bash', ['-c', step], { cwd: copy, env, timeout: 120_000 }).toString();
    expect(last).toBe('Hello, faasline!');
  }, 300_000);
});
