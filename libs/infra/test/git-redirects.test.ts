import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitUrlProblem } from '#domain';
import { fetchCommit, FetchFailed, resolveRef, serveGitRepositories, TemplateProblem, TemplateRegistry, type GitHttpServer } from '#infra';
import { git, testTemplateFiles } from '../../../test/support/git-repos.js';

// The allowed host (127.0.0.1:<redirector port>) answers every request with a redirect to a git server on
// another loopback address, outside the allowed hosts, that serves the repository for real.
let root: string;
let outside: GitHttpServer;
let outsideRequests = 0;
let redirector: Server;
let allowedUrl: string;
let sha: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'faasline-git-redirect-'));
  const repo = join(root, 'openfaas', 'templates');
  for (const [file, content] of Object.entries(testTemplateFiles)) {
    mkdirSync(join(repo, 'template', 'node20', file, '..'), { recursive: true });
    writeFileSync(join(repo, 'template', 'node20', file), content);
  }
  git(repo, 'init', '-q', '-b', 'master');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'templates');
  sha = git(repo, 'rev-parse', 'HEAD');
  outside = await serveGitRepositories({
    host: '127.0.0.2',
    resolve: (path) => {
      outsideRequests += 1;
      return join(root, path.replace(/\.git$/, ''), '.git');
    },
  });
  redirector = createServer((request, response) => {
    response.writeHead(302, { location: `${outside.url}${request.url}` });
    response.end();
  });
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  allowedUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/openfaas/templates.git`;
});

afterAll(async () => {
  redirector?.closeAllConnections();
  await new Promise((resolve) => redirector?.close(resolve));
  await outside?.close();
  rmSync(root, { recursive: true, force: true });
});

const allowedHosts = () => [new URL(allowedUrl).host];
const limits = { timeoutMs: 20_000, maxFiles: 1000, maxBytes: 10 * 1024 * 1024 };

describe('git never follows a redirect', () => {
  it('serves the repository where the redirect points, outside the allowed hosts (the setup works)', async () => {
    expect(gitUrlProblem(allowedUrl, allowedHosts())).toBeNull();
    expect(gitUrlProblem(`${outside.url}/openfaas/templates.git`, allowedHosts())).toMatch(/is not in GIT_ALLOWED_HOSTS/);
    const dir = join(root, 'direct');
    await fetchCommit({ url: `${outside.url}/openfaas/templates.git`, sha, dir, token: null, limits });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(sha);
  });

  it('refuses to fetch a pushed commit through a redirect from an allowed host, and never reaches the other host', async () => {
    const before = outsideRequests;
    const failure = await fetchCommit({
      url: allowedUrl,
      sha,
      dir: join(root, 'through-redirect'),
      token: 'the-installation-token',
      limits,
    }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(FetchFailed);
    expect((failure as FetchFailed).message).toBe('the repository answered with a redirect; git URLs must point at the repository itself');
    expect(outsideRequests).toBe(before);
  });

  it('refuses to resolve a template branch through a redirect', async () => {
    const before = outsideRequests;
    await expect(resolveRef(allowedUrl, null, null, 20_000)).rejects.toThrow(/answered with a redirect/);
    expect(outsideRequests).toBe(before);
  });

  it('refuses a template repository behind a redirect, with a reason for the commit status', async () => {
    const before = outsideRequests;
    const registry = new TemplateRegistry({
      roots: [],
      cacheDir: join(root, 'cache'),
      gitAllowedHosts: allowedHosts(),
      fetchTimeoutMs: 20_000,
    });
    const resolved = registry.resolve([{ name: 'node20', source: allowedUrl }], null);
    await expect(resolved).rejects.toThrow(TemplateProblem);
    await expect(resolved).rejects.toThrow(/answered with a redirect/);
    expect(outsideRequests).toBe(before);
  });
});
