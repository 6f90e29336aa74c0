import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';

export type FetchLimits = Readonly<{
  timeoutMs: number;
  /** Files in the commit's tree. */
  maxFiles: number;
  /** Sum of the blob sizes in the commit's tree. */
  maxBytes: number;
}>;

export type FetchRequest = Readonly<{
  url: string;
  sha: string;
  /** An empty folder that receives the working tree. */
  dir: string;
  /** Sent as an HTTP header, so it never appears in a URL, an argv or an error message. */
  token: string | null;
  limits: FetchLimits;
  /** Aborts the fetch, e.g. when the process shuts down. */
  signal?: AbortSignal;
}>;

/** Why a fetch failed, in words for the user's commit status; `retryable` when trying again may help. */
export class FetchFailed extends Error {
  override readonly name = 'FetchFailed';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/**
 * Fetches exactly one commit, shallow, into `dir` and checks it out. The download is cut off once its pack
 * outgrows the byte limit, and the tree is measured before checkout, so a repository over the limits is never
 * checked out; the time limit covers the whole fetch. An abort through `signal` is retryable, not a refusal.
 */
export async function fetchCommit(request: FetchRequest): Promise<void> {
  await mkdir(request.dir, { recursive: true });
  const controller = new AbortController();
  let stopped: FetchFailed | null = null;
  const stop = (reason: FetchFailed) => {
    stopped ??= reason;
    controller.abort();
  };
  const timer = setTimeout(
    () => stop(new FetchFailed(`fetching the repository took longer than ${Math.round(request.limits.timeoutMs / 1000)} s`, false)),
    request.limits.timeoutMs,
  );
  // The download itself is watched: a pack far bigger than the allowed tree is cut off before it fills the disk.
  const watcher = setInterval(() => {
    void packBytes(request.dir).then((bytes) => {
      if (bytes > request.limits.maxBytes)
        stop(
          new FetchFailed(
            `the repository download passed ${megabytes(request.limits.maxBytes)}; the limit is ${megabytes(request.limits.maxBytes)}`,
            false,
          ),
        );
    });
  }, 200);
  const interrupted = () => stop(new FetchFailed('the fetch was interrupted by a shutdown', true));
  request.signal?.addEventListener('abort', interrupted, { once: true });
  const git = gitIn(request.dir, request.token, controller.signal);
  try {
    await git.init();
    await git.fetch(['--depth', '1', '--no-tags', '--no-recurse-submodules', request.url, request.sha]);
    await checkTree(git, request.limits);
    // Not --quiet: simple-git waits 50 ms more for a command that writes nothing at all.
    await git.raw(['checkout', '--detach', 'FETCH_HEAD']);
  } catch (error) {
    if (stopped) throw stopped;
    if (error instanceof FetchFailed) throw error;
    throw describeGitError(error as Error, request.sha);
  } finally {
    clearTimeout(timer);
    clearInterval(watcher);
    request.signal?.removeEventListener('abort', interrupted);
  }
}

async function packBytes(dir: string): Promise<number> {
  const packs = join(dir, '.git', 'objects', 'pack');
  const files = await readdir(packs).catch(() => [] as string[]);
  const sizes = await Promise.all(
    files.map((file) =>
      stat(join(packs, file)).then(
        (info) => info.size,
        () => 0,
      ),
    ),
  );
  return sizes.reduce((sum, size) => sum + size, 0);
}

/** `git ls-remote` for one ref: the commit a branch or tag points at (template sources pin by it). */
export async function resolveRef(url: string, ref: string | null, token: string | null, timeoutMs: number): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const output = await gitIn(process.cwd(), token, controller.signal).listRemote([url, ref ?? 'HEAD']);
    const lines = output.trim().split('\n').filter(Boolean);
    // A tag's peeled line (^{}) names the commit; a branch has one line.
    const line = lines.find((entry) => entry.endsWith('^{}')) ?? lines[0];
    if (!line) throw new FetchFailed(`${ref ?? 'HEAD'} not found in ${url}`, false);
    return line.split('\t')[0]!;
  } catch (error) {
    if (error instanceof FetchFailed) throw error;
    throw describeGitError(error as Error, ref ?? 'HEAD');
  } finally {
    clearTimeout(timer);
  }
}

function gitIn(dir: string, token: string | null, signal: AbortSignal): SimpleGit {
  const config: [string, string][] = [
    // Nothing from the repository may run here: no hooks, no submodules, no other transports.
    ['core.hooksPath', '/dev/null'],
    ['protocol.allow', 'never'],
    ['protocol.https.allow', 'always'],
    ['protocol.http.allow', 'always'],
    // The URL was checked against GIT_ALLOWED_HOSTS; a redirect would send git (and the token) somewhere unchecked.
    ['http.followRedirects', 'false'],
    ['credential.helper', ''],
    ...(token
      ? ([['http.extraHeader', `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`]] as [string, string][])
      : []),
  ];
  // simple-git guards against caller-supplied git configuration; these settings are ours, and they lock git down.
  const unsafe = {
    allowUnsafeConfigPaths: true,
    allowUnsafeConfigEnvCount: true,
    allowUnsafeHooksPath: true,
    allowUnsafeProtocolOverride: true,
    allowUnsafeCredentialHelper: true,
  };
  return simpleGit({ baseDir: dir, abort: signal, unsafe }).env({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_COUNT: String(config.length),
    ...Object.fromEntries(
      config.flatMap(([key, value], index) => [
        [`GIT_CONFIG_KEY_${index}`, key],
        [`GIT_CONFIG_VALUE_${index}`, value],
      ]),
    ),
  });
}

async function checkTree(git: SimpleGit, limits: FetchLimits): Promise<void> {
  const listing = await git.raw(['ls-tree', '-r', '-l', '-z', 'FETCH_HEAD']);
  let files = 0;
  let bytes = 0;
  for (const entry of listing.split('\0')) {
    if (entry === '') continue;
    const [mode, , , size] = entry.split(/\s+/, 4);
    if (mode === '160000') continue; // a submodule: never fetched
    files += 1;
    bytes += Number(size) || 0;
  }
  if (files > limits.maxFiles) throw new FetchFailed(`the repository has ${files} files; the limit is ${limits.maxFiles}`, false);
  if (bytes > limits.maxBytes) {
    throw new FetchFailed(`the repository holds ${megabytes(bytes)}; the limit is ${megabytes(limits.maxBytes)}`, false);
  }
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function describeGitError(error: Error, sha: string): FetchFailed {
  const message = error.message;
  const fatal = /fatal: (.*)/.exec(message)?.[1]?.trim() ?? message.split('\n')[0]!.trim();
  if (/returned error: 30[12378]\b/.test(message))
    return new FetchFailed('the repository answered with a redirect; git URLs must point at the repository itself', false);
  if (/not our ref|couldn't find remote ref|no such remote ref|unadvertised object/i.test(message)) {
    return new FetchFailed(`commit ${sha.slice(0, 7)} is not in the repository`, false);
  }
  if (/not found|authentication failed|could not read Username|403/i.test(message)) {
    return new FetchFailed('repository not found or not readable with the configured credentials', false);
  }
  return new FetchFailed(`could not fetch the repository: ${fatal.slice(0, 100)}`, true);
}
