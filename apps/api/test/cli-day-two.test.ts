import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { provisionTestDatabase, type TestDatabase } from '../../../libs/infra/test/support/test-database.js';
import { root, runCli } from '../../../test/support/run-cli.js';
import { bareEnv, start, gatewayOf } from './support/spawn-api.js';

const ADMIN_TOKEN = `admin-${randomUUID()}`;
const WEBHOOK_SECRET = `webhook-${randomUUID()}`;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();

const stack = (functions: Record<string, string>) =>
  `provider:\n  name: openfaas\nfunctions:\n${Object.entries(functions)
    .map(([name, lang]) => `  ${name}:\n    lang: ${lang}\n    handler: ./${name}\n    image: ${name}:0.1\n`)
    .join('')}`;

const greeter = `module.exports = async (event, context) => {
  const body = String(event.body)
  if (body === 'fail') return context.status(500).succeed('no good')
  return context.status(200).succeed('hi ' + body + ' from ' + (event.headers['x-name'] || 'nobody'))
}
`;

type Build = { id: string; status: string; sha: string; reusedBuildId: string | null };

/**
 * The CLI a user lives in, as spawned processes against a spawned faasline: push (owner from the remote, dirty
 * trees, rejections, removals), status, builds, build-log (following a build while it runs), languages, invoke.
 */
describe('the day-two CLI against a running faasline', () => {
  let database: TestDatabase;
  let dataDir: string;
  let repo: string;
  let app: Awaited<ReturnType<typeof start>>;
  let env: NodeJS.ProcessEnv;
  // An npm registry that holds every request until released, then answers 404: a build that waits in npm install.
  let registry: Server;
  const held: ServerResponse[] = [];
  let released = false;

  const cli = (args: string[], options: { input?: string } = {}) => runCli(args, { env, cwd: repo, ...options });
  const commit = (files: Record<string, string>, message: string) => {
    for (const entry of git(repo, 'ls-files').split('\n').filter(Boolean)) rmSync(join(repo, entry), { force: true });
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(repo, path, '..'), { recursive: true });
      writeFileSync(join(repo, path), text);
    }
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', message);
    return git(repo, 'rev-parse', 'HEAD');
  };

  beforeAll(async () => {
    database = await provisionTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'faasline-cli-'));
    registry = createServer((_: IncomingMessage, response: ServerResponse) => {
      if (released) response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      else held.push(response);
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    app = await start({
      ...bareEnv(),
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      ADMIN_TOKEN,
      GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      GIT_ALLOWED_HOSTS: '127.0.0.1:*',
      GATEWAY_PORT: '0',
      npm_config_registry: `http://127.0.0.1:${(registry.address() as { port: number }).port}/`,
    });
    const gateway = await gatewayOf(app);
    env = {
      ...bareEnv(),
      DATA_DIR: dataDir,
      FAASLINE_API: app.url,
      OPENFAAS_URL: gateway,
      ADMIN_TOKEN,
      GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
    };
    delete env.FAASLINE_TOKEN;
    repo = join(mkdtempSync(join(tmpdir(), 'faasline-cli-repo-')), 'day-two');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'master');
    git(repo, 'remote', 'add', 'origin', 'git@github.com:CliOwner/day-two.git');
  }, 120_000);

  afterAll(async () => {
    released = true;
    for (const response of held) response.destroy();
    registry?.close();
    app?.child.kill('SIGKILL');
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    if (repo) rmSync(join(repo, '..'), { recursive: true, force: true });
  });

  it('push takes the owner from the remote, refuses a dirty tree, and reports rejections, removals and a summary', async () => {
    commit(
      { 'stack.yml': stack({ hello: 'node20', other: 'node20', bad: 'cobol' }), 'hello/handler.js': greeter, 'other/handler.js': greeter },
      'three functions',
    );
    writeFileSync(join(repo, 'scratch.txt'), 'not committed\n');
    const refused = await cli(['push']);
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: `faasline: ${repo} has 1 uncommitted or untracked change(s) (scratch.txt): commit them, or push HEAD as it is with --allow-dirty\n`,
    });

    const first = await cli(['push', '--allow-dirty']);
    const lines = first.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^pushing cliowner\/day-two master@[0-9a-f]{7} to http/);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}✗ cliowner-bad: unknown language "cobol" \(available: .*node20.*\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}✓ cliowner-hello: live at http:\/\/\S+\/function\/cliowner-hello$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}✓ cliowner-other: live at /));
    expect(lines.at(-1)).toBe('failed: 1 of 3 function(s) failed — 2 live, failed: cliowner-bad');
    expect(first.stderr).toBe('');

    rmSync(join(repo, 'scratch.txt'));
    commit({ 'stack.yml': stack({ hello: 'node20' }), 'hello/handler.js': greeter }, 'only hello');
    const second = await cli(['push']);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^ {2}- cliowner-other: removed \(no longer in the stack file\)$/m);
    expect(second.stdout.trim().split('\n').at(-1)).toBe('done: 1 live, removed: cliowner-other');

    // The same commit again, for scripts: nothing left to remove.
    const again = await cli(['push', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ owner: 'cliowner', repo: 'day-two', outcome: 'deployed', removed: [], failed: [] });
  }, 240_000);

  it('status shows a repository’s functions with their status and its last pushes; --json for scripts', async () => {
    const text = await cli(['status', 'CliOwner/day-two']);
    expect(text.code).toBe(0);
    // Not a terminal: no colours.
    expect(text.stdout).not.toContain('\x1b[');
    const lines = text.stdout.split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['FUNCTION', 'STATUS', 'REPO', 'COMMIT', 'DETAIL']);
    expect(lines).toContainEqual(
      expect.stringMatching(/^cliowner-hello +ready +cliowner\/day-two +master@[0-9a-f]{7} +http:\S+\/function\/cliowner-hello$/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^cliowner-other +removed /));
    expect(text.stdout).toMatch(
      /\nlast pushes of CliOwner\/day-two:\n( {2}\S+ {2}master@[0-9a-f]{7} {2}deployed\n){2} {2}\S+ {2}master@[0-9a-f]{7} {2}failed: 1 of 3 function\(s\) failed: bad: unknown language "cobol" [^\n]*\n$/,
    );

    const json = await cli(['status', 'cliowner-hello', '--json']);
    expect(json.code).toBe(0);
    const answer = JSON.parse(json.stdout) as { functions: { name: string; status: string }[]; pushes: { outcome: string }[] };
    expect(answer.functions).toEqual([expect.objectContaining({ name: 'cliowner-hello', status: 'ready' })]);
    expect(answer.pushes.map((push) => push.outcome)[0]).toBe('deployed');
    expect(answer.pushes.map((push) => push.outcome)).toEqual(['deployed', 'deployed', 'failed']);

    expect((await cli(['status'])).stdout).toMatch(/^cliowner-hello +ready /m);
    expect(await cli(['status', 'cliowner-nobody'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'faasline: no function named cliowner-nobody (faasline status lists them)\n',
    });
  });

  it('builds lists a function’s builds and build-log prints one (a function name means its newest)', async () => {
    const json = await cli(['builds', 'cliowner-hello', '--json']);
    expect(json.code).toBe(0);
    const builds = JSON.parse(json.stdout) as Build[];
    expect(builds.length).toBeGreaterThanOrEqual(1);
    const built = builds.find((build) => build.status === 'succeeded')!;
    expect(built).toBeDefined();
    const text = await cli(['builds', 'cliowner-hello']);
    expect(text.stdout.split('\n')[0]!.split(/\s+/)).toEqual(['BUILD', 'STATUS', 'COMMIT', 'STARTED', 'TOOK', 'DETAIL']);
    expect(text.stdout).toContain(`${built.id}  succeeded`);

    const log = await cli(['build-log', built.id]);
    expect(log.code).toBe(0);
    expect(log.stdout).toMatch(/^\S+ local builder: local\/cliowner\/day-two-hello:0\.1-master-[0-9a-f]{7}$/m);
    expect(log.stdout).toMatch(/^\S+ built local\/cliowner\/day-two-hello:/m);
    // The newest build of the function: a reused one shows the log of the build whose image it took.
    const newest = await cli(['build-log', 'cliowner-hello', '--json']);
    const shown = JSON.parse(newest.stdout) as { build: Build; log: string };
    expect(shown.build.status).toBe('succeeded');
    expect(shown.log).toContain('built local/cliowner/day-two-hello:');
    if (builds[0]!.status === 'reused')
      expect(newest.stderr).toContain(`build ${builds[0]!.id} reused the image of build ${shown.build.id}`);

    expect(await cli(['build-log', 'cliowner-nobody'])).toMatchObject({ code: 1, stdout: '' });
    expect((await cli(['builds', 'cliowner-nobody'])).stdout).toBe('no builds of cliowner-nobody (faasline status lists the functions)\n');
  });

  it('build-log --follow prints a running build’s lines as they come and stops when it has finished', async () => {
    const sha = commit(
      {
        'stack.yml': stack({ hello: 'node20', slow: 'node20' }),
        'hello/handler.js': greeter,
        'slow/handler.js': greeter,
        'slow/package.json': '{"name":"slow","version":"1.0.0","dependencies":{"left-pad":"1.3.0"}}\n',
      },
      'a slow one',
    );
    const pushed = runCli(['push'], { env, cwd: repo });
    let build: Build | undefined;
    await eventually(
      async () => {
        const { stdout } = await cli(['builds', 'cliowner-slow', '--json']);
        build = stdout
          ? (JSON.parse(stdout) as Build[]).find((candidate) => candidate.sha === sha && candidate.status === 'running')
          : undefined;
        return build !== undefined && held.length > 0;
      },
      120_000,
      'the slow build to wait in npm install',
    );
    const follower = spawn(process.execPath, [join(root, 'bin/faasline.js'), 'build-log', 'cliowner-slow', '--follow'], { env, cwd: repo });
    let followed = '';
    follower.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => follower.once('close', resolve));
    // Saved while it runs: the lines before npm install are there while the registry still holds npm.
    await eventually(async () => /npm install --omit=dev in /.test(followed), 30_000, 'the running build’s lines');
    expect(followed).toMatch(/local builder: local\/cliowner\/day-two-slow:/);
    expect(followed).not.toMatch(/build failed/);
    released = true;
    for (const response of held.splice(0)) response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');

    expect(await exited).toBe(1);
    const lines = followed.trim().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`^build ${build!.id} failed: `));
    expect(lines.filter((line) => /local builder: /.test(line))).toHaveLength(1);
    expect(followed).toMatch(/build failed: /);
    const push = await pushed;
    expect(push.code).toBe(1);
    expect(push.stdout).toMatch(/^ {2}✗ cliowner-slow: build failed: /m);
    expect(push.stdout.trim().split('\n').at(-1)).toBe('failed: 1 of 2 function(s) failed — 1 live, failed: cliowner-slow');
  }, 240_000);

  it('languages lists what lang: may say and which templates are classic', async () => {
    const json = await cli(['languages', '--json']);
    expect(json.code).toBe(0);
    const languages = JSON.parse(json.stdout) as { name: string; classic: boolean }[];
    expect(languages).toContainEqual(expect.objectContaining({ name: 'node20', classic: false }));
    expect(languages).toContainEqual(expect.objectContaining({ name: 'python3', classic: true }));
    expect(languages).toContainEqual(expect.objectContaining({ name: 'python3-http', classic: false }));
    const text = await cli(['languages']);
    expect(text.stdout).toMatch(/^node20$/m);
    expect(text.stdout).toMatch(/^python3 +classic: standard output is the response$/m);
  });

  it('invoke calls a function through the gateway with --data or standard input and headers; non-2xx exits 1', async () => {
    expect(await cli(['invoke', 'cliowner-hello', '--data', 'Ann'])).toEqual({ code: 0, stdout: 'hi Ann from nobody', stderr: '' });
    expect(await cli(['invoke', 'cliowner-hello', '-H', 'X-Name: Carol'], { input: 'Bob' })).toEqual({
      code: 0,
      stdout: 'hi Bob from Carol',
      stderr: '',
    });
    expect(await cli(['invoke', 'cliowner-hello', '--data', 'fail'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'faasline: cliowner-hello answered 500: no good\n',
    });
    const json = await cli(['invoke', 'cliowner-hello', '--data', 'Dee', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 200, body: 'hi Dee from nobody' });
    const missing = await cli(['invoke', 'cliowner-nobody']);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toMatch(/^faasline: cliowner-nobody answered 404/);
  });
});
