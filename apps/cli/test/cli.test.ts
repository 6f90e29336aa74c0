import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { commandsOf, root, runCli } from '../../../test/support/run-cli.js';

/** A loopback address nothing listens on: a port the system handed out and took back. */
async function closedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** For tests that start the CLI dozens of times: each start is a new Node process, slow on a busy machine. */
const SPAWNS_TIMEOUT_MS = 240_000;

/** What no usage error may ever print: a stack trace. */
const STACK_LINE = /^\s+at /m;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();

describe('faasline help and usage errors', () => {
  let commands: string[];

  beforeAll(async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    commands = commandsOf(stdout);
  });

  it('lists every command, the day-two ones included', () => {
    expect(commands).toEqual(
      expect.arrayContaining([
        'start',
        'push',
        'replay',
        'events',
        'functions',
        'logs',
        'status',
        'builds',
        'build-log',
        'languages',
        'new',
        'invoke',
      ]),
    );
  });

  it(
    'answers --help for every command with its usage and exit 0, starting nothing',
    async () => {
      const dataDir = join(tmpdir(), `faasline-help-${process.pid}`);
      // Were anything started, it would listen on PORT, write DATA_DIR and not exit: the run would never close.
      const env = { ...process.env, DATA_DIR: dataDir, PORT: '0', GATEWAY_PORT: '0' };
      for (const command of commands) {
        for (const args of [
          [command, '--help'],
          [command, '-h'],
          ['help', command],
        ]) {
          const { code, stdout, stderr } = await runCli(args, { env });
          expect({ args, code, stderr }).toEqual({ args, code: 0, stderr: '' });
          expect(stdout).toMatch(new RegExp(`^Usage: faasline ${command} `));
        }
      }
      expect(existsSync(dataDir)).toBe(false);
    },
    SPAWNS_TIMEOUT_MS,
  );

  it('answers help, --help, --version and no command at all with exit 0', async () => {
    for (const args of [['help'], ['--help'], []]) {
      const { code, stdout } = await runCli(args);
      expect({ args, code }).toEqual({ args, code: 0 });
      expect(stdout).toMatch(/^Usage: faasline \[options\] \[command\]/);
    }
    const version = await runCli(['--version']);
    expect(version).toEqual({
      code: 0,
      stdout: `${(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version}\n`,
      stderr: '',
    });
  });

  it(
    'refuses an unknown option of any command in one line on stderr, exit 2',
    async () => {
      for (const command of commands) {
        const { code, stdout, stderr } = await runCli([command, '--no-such-option']);
        expect({ command, code, stdout }).toEqual({ command, code: 2, stdout: '' });
        expect(stderr).toBe("faasline: unknown option '--no-such-option'\n");
      }
    },
    SPAWNS_TIMEOUT_MS,
  );

  it('refuses unknown commands, missing and extra arguments in one line, exit 2, never a stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['nonsense'], /^faasline: unknown command 'nonsense'\n$/],
      [['statsu'], /^faasline: unknown command 'statsu' \(Did you mean status\?\)\n$/],
      [['logs'], /^faasline: missing required argument 'function'\n$/],
      [['builds', 'a', 'b'], /^faasline: too many arguments for 'builds'\. .*\n$/],
      [['push', '--owner'], /^faasline: option '--owner <owner>' argument missing\n$/],
      [['new', 'fn'], /^faasline: required option '--lang <lang>' not specified\n$/],
      [['help', 'nonsense'], /^faasline: unknown command 'nonsense'\n$/],
    ];
    for (const [args, expected] of cases) {
      const { code, stdout, stderr } = await runCli(args);
      expect({ args, code, stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(stderr).toMatch(expected);
      expect(stderr).not.toMatch(STACK_LINE);
    }
  });

  it('says what to start or set when faasline is not there, in one line, exit 1', async () => {
    const api = await closedUrl();
    const env = { ...process.env, ADMIN_TOKEN: 'x', FAASLINE_API: api };
    for (const command of [['status'], ['builds', 'fn'], ['build-log', 'fn'], ['languages'], ['events'], ['replay']]) {
      expect(await runCli(command, { env })).toEqual({
        code: 1,
        stdout: '',
        stderr: `faasline: cannot reach faasline at ${api} (ECONNREFUSED): is it running? (npm start)\n`,
      });
    }
    const gateway = await closedUrl();
    expect(await runCli(['invoke', 'fn', '--gateway', gateway])).toEqual({
      code: 1,
      stdout: '',
      stderr: `faasline: cannot reach the gateway at ${gateway} (ECONNREFUSED): is faasline running? (npm start), or set OPENFAAS_URL\n`,
    });
  });
});

describe('faasline push before it delivers anything', () => {
  let folder: string;
  let api: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    // Nothing listens there: reaching it means the push got past every local check.
    api = await closedUrl();
    env = { ...process.env, GITHUB_WEBHOOK_SECRET: 'secret', ADMIN_TOKEN: 'admin', FAASLINE_API: api };
    folder = join(mkdtempSync(join(tmpdir(), 'faasline-push-')), 'day-two');
    mkdirSync(folder);
    git(folder, 'init', '-q', '-b', 'master');
    writeFileSync(join(folder, 'stack.yml'), 'provider:\n  name: openfaas\nfunctions: {}\n');
    writeFileSync(join(folder, '.gitignore'), 'build/\n');
    git(folder, 'add', '-A');
    git(folder, 'commit', '-qm', 'stack');
  });

  afterAll(() => rmSync(join(folder, '..'), { recursive: true, force: true }));

  it('asks for --owner when the repository has no github.com origin, never guessing the OS user', async () => {
    const none = await runCli(['push', folder], { env });
    expect(none).toEqual({
      code: 1,
      stdout: '',
      stderr: 'faasline: cannot tell the owner: the repository has no origin remote; pass --owner <github user or org>\n',
    });
    git(folder, 'remote', 'add', 'origin', 'https://gitlab.com/someone/day-two.git');
    const elsewhere = await runCli(['push', folder], { env });
    expect(elsewhere.stderr).toBe(
      'faasline: cannot tell the owner: its origin remote is not a github.com repository; pass --owner <github user or org>\n',
    );
    git(folder, 'remote', 'remove', 'origin');
  });

  it(
    'takes the owner and repository from the origin remote, https or ssh, and --owner/--repo over them',
    async () => {
      const sha = git(folder, 'rev-parse', 'HEAD').slice(0, 7);
      for (const [remote, expected] of [
        ['https://github.com/AlexEllis/fns.git', 'alexellis/fns'],
        ['git@github.com:openfaas/faas-cli', 'openfaas/faas-cli'],
        ['ssh://git@github.com/Org-1/repo.name.git', 'org-1/repo.name'],
      ] as const) {
        git(folder, 'remote', 'add', 'origin', remote);
        const { code, stdout, stderr } = await runCli(['push', folder], { env });
        git(folder, 'remote', 'remove', 'origin');
        expect({ code, stdout }).toEqual({ code: 1, stdout: `pushing ${expected} master@${sha} to ${api}\n` });
        expect(stderr).toBe(`faasline: cannot reach faasline at ${api} (ECONNREFUSED): is it running? (npm start)\n`);
      }
      const named = await runCli(['push', folder, '--owner', 'Me', '--repo', 'other'], { env });
      expect(named.stdout).toBe(`pushing me/other master@${sha} to ${api}\n`);
      const folderName = await runCli(['push', '--owner', 'me'], { env, cwd: folder });
      expect(folderName.stdout).toBe(`pushing me/day-two master@${sha} to ${api}\n`);
    },
    SPAWNS_TIMEOUT_MS,
  );

  it('refuses uncommitted or untracked changes in one line unless --allow-dirty; ignored files do not count', async () => {
    mkdirSync(join(folder, 'build'), { recursive: true });
    writeFileSync(join(folder, 'build', 'output'), 'ignored\n');
    expect((await runCli(['push', folder, '--owner', 'me'], { env })).stdout).toMatch(/^pushing /);

    writeFileSync(join(folder, 'stack.yml'), 'provider:\n  name: openfaas\nfunctions: {}\n# edited\n');
    writeFileSync(join(folder, 'notes.txt'), 'new\n');
    const refused = await runCli(['push', folder, '--owner', 'me'], { env });
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: `faasline: ${folder} has 2 uncommitted or untracked change(s) (notes.txt, stack.yml): commit them, or push HEAD as it is with --allow-dirty\n`,
    });
    const allowed = await runCli(['push', folder, '--owner', 'me', '--allow-dirty'], { env });
    expect(allowed.stdout).toMatch(/^pushing me\/day-two master@/);
    expect(allowed.stderr).toMatch(/cannot reach faasline/);
  });

  it('says a folder outside git is not a repository', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'faasline-plain-'));
    try {
      expect(await runCli(['push', plain, '--owner', 'me'], { env })).toEqual({
        code: 1,
        stdout: '',
        stderr: `faasline: ${plain} is not a git repository\n`,
      });
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});

describe('faasline new', () => {
  let folder: string;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'faasline-new-'));
  });

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("scaffolds the handler from the template's function folder and creates stack.yml", async () => {
    const { code, stdout, stderr } = await runCli(['new', 'hello', '--lang', 'node20', '--owner', 'AlexEllis'], { cwd: folder });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('created hello/ (handler.js, package.json)');
    expect(stdout).toContain('it deploys as alexellis-hello');
    expect(readFileSync(join(folder, 'stack.yml'), 'utf8')).toBe(
      'version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  hello:\n    lang: node20\n    handler: ./hello\n    image: hello:latest\n',
    );
    // The node20 member of the node-http family, with its {{major}} filled in.
    expect(readFileSync(join(folder, 'hello', 'handler.js'), 'utf8')).toBe(
      readFileSync(join(root, 'templates', 'node-http', 'function', 'handler.js'), 'utf8').replaceAll('{{major}}', '20'),
    );
  });

  it('adds to an existing stack file under its functions, keeping its comments and layout', async () => {
    const stack = join(folder, 'fns.yml');
    writeFileSync(
      stack,
      '# my functions\nprovider:\n  name: openfaas\nfunctions:\n    a:\n        lang: node\n        handler: ./a\n        image: a\n\n# templates\nconfiguration:\n  templates: []\n',
    );
    const { code, stdout } = await runCli(['new', 'b', '--lang', 'python3', '--stack', 'fns.yml', '--prefix', 'alexellis', '--json'], {
      cwd: folder,
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      function: 'b',
      name: null,
      lang: 'python3',
      handler: join(folder, 'b'),
      files: ['__init__.py', 'handler.py', 'requirements.txt'],
      stack: stack,
      stackCreated: false,
    });
    expect(readFileSync(stack, 'utf8')).toBe(
      '# my functions\nprovider:\n  name: openfaas\nfunctions:\n    a:\n        lang: node\n        handler: ./a\n        image: a\n    b:\n        lang: python3\n        handler: ./b\n        image: alexellis/b:latest\n\n# templates\nconfiguration:\n  templates: []\n',
    );
  });

  it('refuses a name the stack already declares, an unknown language (listing the available ones) and a bad name', async () => {
    expect(await runCli(['new', 'hello', '--lang', 'node20'], { cwd: folder })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'faasline: stack.yml already declares a function hello\n',
    });
    const unknown = await runCli(['new', 'other', '--lang', 'cobol'], { cwd: folder });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      'faasline: no template for lang "cobol": available are node, node18, node20, node22, python, python3, python3-http\n',
    );
    expect(existsSync(join(folder, 'other'))).toBe(false);
    const bad = await runCli(['new', 'Not_A_Name', '--lang', 'node20'], { cwd: folder });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^faasline: cannot name a function Not_A_Name: function name "Not_A_Name" must be lower-case/);
    expect(await runCli(['new', 'x'.repeat(60), '--lang', 'node20', '--owner', 'alexellis'], { cwd: folder })).toMatchObject({
      code: 1,
      stderr: `faasline: cannot name a function ${'x'.repeat(60)}: the function name is 70 characters; the limit is 63\n`,
    });
  });
});

describe('colours', () => {
  it(
    'are used on a terminal only, and never with NO_COLOR set',
    async () => {
      const folder = mkdtempSync(join(tmpdir(), 'faasline-tty-'));
      try {
        // util-linux script(1) gives the command a terminal of its own.
        const onTerminal = (name: string, env: NodeJS.ProcessEnv) =>
          execFileSync('script', ['-qec', `${process.execPath} ${join(root, 'bin/faasline.js')} new ${name} --lang node20`, '/dev/null'], {
            cwd: folder,
            env,
          }).toString();
        const green = '\x1b[32mcreated\x1b[39m';
        // Node colours only a terminal that says it can: a TERM that names one and no CI variable (CI sets one).
        const colourTerminal = { ...process.env, TERM: 'xterm-256color', CI: undefined, FORCE_COLOR: undefined };
        expect(onTerminal('one', { ...colourTerminal, NO_COLOR: undefined })).toContain(green);
        expect(onTerminal('two', { ...colourTerminal, NO_COLOR: '1' })).not.toContain('\x1b[');
        const piped = await runCli(['new', 'three', '--lang', 'node20'], { cwd: folder, env: { ...process.env, NO_COLOR: undefined } });
        expect(piped.stdout).toContain('created three/');
        expect(piped.stdout).not.toContain('\x1b[');
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    },
    SPAWNS_TIMEOUT_MS,
  );
});

describe('the README CLI reference', () => {
  it('is what npm run docs:cli generates from the commands (regenerate it after changing one)', () => {
    expect(() =>
      execFileSync(process.execPath, [join(root, 'scripts/cli-docs.js'), '--check'], { cwd: root, stdio: 'pipe' }),
    ).not.toThrow();
  });
});
