import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { openDataSource } from '#infra';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import type { RepoFiles } from '../../../test/support/git-repos.js';
import { INSTALLATION, startPipelineWorld, type PipelineWorld } from './support/pipeline-world.js';
import { deliverCommit } from './support/spawn-api.js';

/** The build policy seen from outside the api process: BUILD_TIMEOUT and capped build output, through a real push. */

const secret = 'build-limits-webhook-secret';
const TIMEOUT_S = 20;
const stack = `provider:\n  name: openfaas\nfunctions:\n  fn1:\n    lang: node20\n    handler: ./fn1\n    image: alexellis2/fn1:0.1\n`;

/** A Python source tree in the handler whose build backend runs `code` when pip asks what it needs to build. */
const sourceTree = (code: string): RepoFiles => ({
  'fn1/handler.js': `module.exports = async () => ${JSON.stringify(code.length)};\n`,
  'fn1/requirements.txt': './function/pkg\n',
  'fn1/pkg/pyproject.toml': '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n',
  'fn1/pkg/backend.py': `def get_requires_for_build_wheel(config_settings=None):\n${code.replace(/^/gm, '    ')}\n    return []\n`,
});

const rssOf = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** Live processes whose command line contains `text`. */
const processesWith = (text: string) =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return (
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
        );
      } catch {
        return false;
      }
    });

describe('build limits, through the spawned api', () => {
  let world: PipelineWorld;
  let db: DataSource;

  beforeAll(async () => {
    world = await startPipelineWorld(secret, null, { BUILD_TIMEOUT: String(TIMEOUT_S), PIP_SOURCE_BUILDS: 'true' });
    db = await openDataSource(world.database.url);
  });
  afterAll(async () => {
    await db?.destroy();
    await world?.close();
  });

  const push = async (files: RepoFiles) => {
    const sha = world.git.commit('alexellis', 'fns', { 'stack.yml': stack, ...files });
    await deliverCommit(world.api.url, secret, world.git, { owner: 'alexellis', repo: 'fns', sha, installationId: INSTALLATION });
    return sha;
  };
  const failureOf = async (sha: string, within: number) => {
    const failure = () => world.github.statuses.find((s) => s.sha === sha && s.context === 'alexellis-fn1' && s.state === 'failure');
    await eventually(async () => failure() !== undefined, within, `the failure status of alexellis-fn1 at ${sha.slice(0, 7)}`);
    return failure()!;
  };
  const logOf = async (targetUrl: string) => {
    const link = new URL(targetUrl);
    const answer = await fetch(`${world.api.url}${link.pathname}${link.search}`);
    expect(answer.status).toBe(200);
    return answer.text();
  };

  it('keeps the server’s memory bounded through 30 MB of build output and stores the log’s head and tail', async () => {
    const pid = world.api.child.pid!;
    const before = rssOf(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 100);
    try {
      const sha = await push(
        sourceTree(
          `import sys\nline = "flood " + "z" * 993 + "\\n"\nfor i in range(31_000): sys.stdout.write(line)\nsys.stdout.flush()\nraise SystemExit(1)`,
        ),
      );
      const failure = await failureOf(sha, 90_000);
      expect(failure.description).toMatch(/^build failed: pip install failed/);
      const log = await logOf(failure.targetUrl!);
      expect(Buffer.byteLength(log)).toBeLessThan(2.2 * 1024 * 1024);
      expect(log).toMatch(/^\S+Z local builder: /);
      const omitted = /\n… (\d+) bytes omitted …\n/.exec(log);
      expect(Number(omitted?.[1])).toBeGreaterThan(25_000_000);
      expect(log).toMatch(/build failed: pip install failed: error: subprocess-exited-with-error\n?$/);
      const [event] = await db.query(
        `SELECT data FROM events WHERE type = 'BuildFailed' AND data->>'name' = 'alexellis-fn1' ORDER BY global_position DESC LIMIT 1`,
      );
      expect((event.data.logTail as string).length).toBeLessThanOrEqual(2000);
    } finally {
      clearInterval(sampler);
    }
    // Generous: holding the output grew the server from 127 MB to 362 MB before.
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
  }, 120_000);

  it('kills a build past BUILD_TIMEOUT with everything it started and records why it failed', async () => {
    const mark = `${TIMEOUT_S * 100}.${randomInt(1e9)}`; // a sleep no other process runs
    const started = Date.now();
    const sha = await push(sourceTree(`import subprocess, time\nsubprocess.Popen(["sleep", "${mark}"])\ntime.sleep(600)`));
    await eventually(async () => processesWith(mark).length > 0, 30_000, 'the build’s sleeping child');
    const failure = await failureOf(sha, (TIMEOUT_S + 40) * 1000);
    expect(failure.description).toBe(`build failed: build exceeded BUILD_TIMEOUT of ${TIMEOUT_S} s`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_S * 1000);
    await eventually(async () => processesWith(mark).length === 0, 5000, 'the sleeping child killed');
    expect(await logOf(failure.targetUrl!)).toMatch(/build failed: build exceeded BUILD_TIMEOUT of 20 s\n?$/);
  }, 120_000);
});
