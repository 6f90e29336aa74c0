import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { serveGitRepositories, type GitHttpServer } from '#infra';

/** A file's content, or a symlink to `target`, or an executable file. */
export type RepoFile = string | Readonly<{ symlink: string }> | Readonly<{ executable: string }>;
export type RepoFiles = Readonly<Record<string, RepoFile>>;

export type GitFixtures = Readonly<{
  root: string;
  server: GitHttpServer;
  /** Creates or updates `owner/repo` with exactly `files` as a new commit; returns the commit SHA. */
  commit: (owner: string, repo: string, files: RepoFiles, message?: string) => string;
  cloneUrl: (owner: string, repo: string) => string;
  close: () => Promise<void>;
}>;

/** Runs git in `cwd` as a fixed test author; answers its trimmed output. */
export const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
    },
  })
    .toString()
    .trim();

/** Real repositories on disk, served read-only over git smart HTTP on loopback. */
export async function gitFixtures(options: { token?: string; beforeUploadPack?: () => Promise<void> } = {}): Promise<GitFixtures> {
  const root = mkdtempSync(join(tmpdir(), 'faasline-git-'));
  const server = await serveGitRepositories({
    resolve: (path) => join(root, path.replace(/\.git$/, ''), '.git'),
    ...(options.token ? { token: options.token } : {}),
    ...(options.beforeUploadPack ? { beforeUploadPack: options.beforeUploadPack } : {}),
  });
  return {
    root,
    server,
    commit: (owner, repo, files, message = 'commit') => {
      const dir = join(root, owner, repo);
      mkdirSync(dir, { recursive: true });
      try {
        git(dir, 'rev-parse', '--git-dir');
      } catch {
        git(dir, 'init', '-q', '-b', 'master');
      }
      for (const entry of git(dir, 'ls-files').split('\n').filter(Boolean)) rmSync(join(dir, entry), { force: true });
      for (const [path, file] of Object.entries(files)) {
        const target = join(dir, path);
        mkdirSync(dirname(target), { recursive: true });
        if (typeof file === 'string') writeFileSync(target, file);
        else if ('symlink' in file) symlinkSync(file.symlink, target);
        else {
          writeFileSync(target, file.executable);
          chmodSync(target, 0o755);
        }
      }
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '--allow-empty', '-m', message);
      return git(dir, 'rev-parse', 'HEAD');
    },
    cloneUrl: (owner, repo) => `${server.url}/${owner}/${repo}.git`,
    close: async () => {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A template in faas-cli's layout, enough for the source step (the real ones come with the embedded gateway). */
export const testTemplateFiles = {
  'template.yml':
    'language: node20\nfprocess: node index.js\nbuild_options:\n  - name: dev\n    packages:\n      - make\n      - python3\n',
  Dockerfile: 'FROM node:20-alpine\nWORKDIR /home/app\nCOPY . .\nCMD ["node", "index.js"]\n',
  'index.js':
    "const handler = require('./function/handler');\nrequire('http').createServer(async (q, s) => s.end(String(await handler(q)))).listen(3000);\n",
  'package.json': '{"name":"node20-template","private":true}\n',
} as const;

export function writeTemplates(names: readonly string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'faasline-templates-'));
  for (const name of names) {
    mkdirSync(join(root, name, 'function'), { recursive: true });
    for (const [file, content] of Object.entries(testTemplateFiles)) writeFileSync(join(root, name, file), content.replace('node20', name));
    writeFileSync(join(root, name, 'function', 'handler.js'), 'module.exports = async () => "template default";\n');
  }
  return root;
}
