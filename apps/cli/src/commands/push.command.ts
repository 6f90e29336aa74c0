import { execFileSync } from 'node:child_process';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, reason, type CliContext } from '../cli-context.js';
import { githubRemote, originRemoteOf } from './git-remote.js';
import { allPages, type FunctionView } from './read-api.js';

type PushOptions = { owner?: string; repo?: string; api?: string; timeout: string; allowDirty?: boolean; json?: boolean };
type DeliveryEvent = { position: number; type: string; data: Record<string, unknown> & Record<string, never> };
type Outcome = { live: string[]; failed: { name: string; reason: string }[]; removed: { name: string; reason: string }[] };

/** `faasline push [path]`: deliver a signed push for HEAD of a local git repository, served to faasline over git's HTTP protocol, and follow it until it settles. */
export function registerPushCommand(program: Command, cli: CliContext): void {
  program
    .command('push')
    .description('deliver a signed push for the HEAD of the git repository at path, then follow it until live')
    .argument('[path]', 'the git repository', '.')
    .option('--owner <owner>', "the GitHub owner (user or org) it deploys as (default: from git's origin remote)")
    .option('--repo <repo>', 'the repository name (default: from the origin remote, else the folder name)')
    .option('--allow-dirty', 'push HEAD even though the work tree has uncommitted or untracked changes')
    .option('--timeout <seconds>', 'give up following after this long', '300')
    .option('--json', 'print the outcome as JSON at the end')
    .option('--api <url>', 'the faasline API (default: FAASLINE_API, else http://127.0.0.1:$PORT)')
    .action(async (path: string, options: PushOptions) => {
      if (!/^\d+$/.test(options.timeout)) throw new CliError(`--timeout takes a number of seconds: ${options.timeout}`);
      const folder = resolve(path);
      const git = (...args: string[]) =>
        execFileSync('git', args, { cwd: folder, stdio: ['ignore', 'pipe', 'pipe'] })
          .toString()
          .trim();
      let gitDir: string;
      try {
        gitDir = resolve(folder, git('rev-parse', '--git-dir'));
      } catch {
        throw new CliError(`${folder} is not a git repository`);
      }
      let sha: string;
      try {
        sha = git('rev-parse', 'HEAD');
      } catch {
        throw new CliError(`${folder} has no commit yet: commit the stack first`);
      }
      const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
      // What is pushed is HEAD: edits not committed would silently not be in it.
      const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=normal'], {
        cwd: folder,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((line) => line.slice(3))
        .sort();
      if (dirty.length > 0 && !options.allowDirty)
        throw new CliError(
          `${folder} has ${dirty.length} uncommitted or untracked change(s) (${dirty.slice(0, 3).join(', ')}${dirty.length > 3 ? ', …' : ''}): commit them, or push HEAD as it is with --allow-dirty`,
        );
      const origin = originRemoteOf(folder);
      const remote = origin === null ? null : githubRemote(origin);
      const ownerName = options.owner ?? remote?.owner;
      if (!ownerName)
        throw new CliError(
          `cannot tell the owner: ${origin === null ? 'the repository has no origin remote' : 'its origin remote is not a github.com repository'}; pass --owner <github user or org>`,
        );
      const owner = ownerName.toLowerCase().replace(/[^a-z0-9-]/g, '-');
      const repo = (options.repo ?? remote?.repo ?? basename(git('rev-parse', '--show-toplevel'))).replace(/[^A-Za-z0-9._-]/g, '-');
      const api = cli.apiUrl(options.api);
      const webhookSecret = cli.secret('GITHUB_WEBHOOK_SECRET', 'github-webhook-secret');
      const adminToken = cli.adminToken();

      // Loaded here only: the rest of the CLI starts without the infrastructure library.
      const { serveGitRepositories } = await import('#infra');
      const server = await serveGitRepositories({ resolve: (served: string) => (served === `${owner}/${repo}.git` ? gitDir : null) });
      const id = (text: string) => Number.parseInt(createHash('sha256').update(text).digest('hex').slice(0, 8), 16);
      const payload = JSON.stringify({
        ref: `refs/heads/${branch}`,
        before: '0'.repeat(40),
        after: sha,
        repository: {
          id: id(`${owner}/${repo}`),
          name: repo,
          full_name: `${owner}/${repo}`,
          private: false,
          owner: { login: owner, id: id(owner) },
          clone_url: `${server.url}/${owner}/${repo}.git`,
          default_branch: branch,
          // As GitHub does: tells this push from an earlier one of the same commit, which faasline records only once.
          pushed_at: Math.floor(Date.now() / 1000),
        },
        pusher: { name: owner },
        sender: { login: owner },
      });
      const deliveryId = randomUUID();
      try {
        const say = (line: string) => {
          if (!options.json) console.log(line);
        };
        say(`pushing ${owner}/${repo} ${branch}@${sha.slice(0, 7)} to ${api}`);
        // What runs before the push: a success removes those the stack no longer declares, reported before the summary.
        const running = (await allPages<FunctionView>(cli, `${api}/api/v1/functions?${new URLSearchParams({ owner, repo })}`, adminToken))
          .filter((fn) => fn.status === 'ready' || fn.status === 'deploying')
          .map((fn) => fn.name);
        let response: Response;
        try {
          response = await fetch(`${api}/webhooks/github`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-github-event': 'push',
              'x-github-delivery': deliveryId,
              'x-hub-signature-256': `sha256=${createHmac('sha256', webhookSecret).update(payload).digest('hex')}`,
            },
            body: payload,
          });
        } catch (error) {
          throw new CliError(`cannot reach faasline at ${api} (${reason(error)}): is it running? (npm start)`);
        }
        if (response.status !== 202) throw new CliError(`faasline answered ${response.status}: ${(await response.text()).trim()}`);
        const result = await follow(cli, say, { api, token: adminToken, deliveryId, running, timeoutMs: Number(options.timeout) * 1000 });
        if (options.json)
          console.log(
            JSON.stringify({ owner, repo, branch, sha, deliveryId, outcome: result.state, reason: result.reason, ...result.outcome }),
          );
        process.exitCode = result.state === 'deployed' ? 0 : 1;
      } finally {
        await server.close();
      }
    });
}

const REMOVAL_WAIT_MS = 30_000;

type Followed = { state: 'deployed' | 'failed' | 'ignored' | 'unsettled'; reason: string | null; outcome: Outcome };

/** Prints what the delivery causes as it happens; resolves once the push settles (or the timeout passes). */
async function follow(
  cli: CliContext,
  say: (line: string) => void,
  { api, token, deliveryId, running, timeoutMs }: { api: string; token: string; deliveryId: string; running: string[]; timeoutMs: number },
): Promise<Followed> {
  const { ok, fail, dim } = cli.colour;
  const deadline = Date.now() + timeoutMs;
  const outcome: Outcome = { live: [], failed: [], removed: [] };
  const failed = (name: string, why: string) => outcome.failed.push({ name, reason: why });
  const summary = () =>
    [
      `${outcome.live.length} live`,
      ...(outcome.failed.length ? [`failed: ${outcome.failed.map((f) => f.name).join(' ')}`] : []),
      ...(outcome.removed.length ? [`removed: ${outcome.removed.map((r) => r.name).join(' ')}`] : []),
    ].join(', ');
  const accepted: string[] = [];
  /** How many functions the stack file declares, rejected ones included. */
  let declared = 0;
  /** Set once the stack-deploy status succeeded: the push is done when the removals it causes have been recorded too. */
  let succeeded = false;
  // A function already gone from the gateway is not removed again: waiting for it is bounded.
  let removalDeadline = deadline;
  const finish = (): Followed => {
    for (const endpoint of outcome.live) say(`  curl ${endpoint}`);
    // The last line sums the push up, whatever came before it.
    say(`done: ${summary()}`);
    return { state: 'deployed', reason: null, outcome };
  };
  const removalsPending = () =>
    running.some((name) => !accepted.includes(name) && !outcome.removed.some((removed) => removed.name === name));
  let after = 0;
  while (Date.now() < deadline) {
    const page = await cli.call<{ items: DeliveryEvent[] }>('GET', `${api}/api/v1/deliveries/${deliveryId}/events?after=${after}`, {
      token,
    });
    for (const event of page.items) {
      after = event.position;
      const d = event.data as Record<string, never>;
      switch (event.type) {
        case 'PushIgnored':
          say(`  ignored: ${d.reason}`);
          return { state: 'ignored', reason: d.reason, outcome };
        case 'SourceRejected':
          say(`  ${fail('✗')} ${d.reason}`);
          say(`failed: ${d.reason}`);
          return { state: 'failed', reason: d.reason, outcome };
        case 'SourceFetched': {
          const functions = d.functions as { name: string }[];
          accepted.push(...functions.map((fn) => fn.name));
          declared = functions.length + (d.rejected as unknown[]).length;
          const rejected = (d.rejected as { function: string; name: string; reason: string }[]).map((rejection) => ({
            ...rejection,
            // Reasons written for the commit status name the function already.
            reason: rejection.reason.startsWith(`${rejection.function}: `)
              ? rejection.reason.slice(rejection.function.length + 2)
              : rejection.reason,
          }));
          say(`  ${d.stackFile}: ${functions.length} function(s)${rejected.length ? `, ${rejected.length} rejected` : ''}`);
          for (const rejection of rejected) {
            say(`  ${fail('✗')} ${rejection.name}: ${rejection.reason}`);
            failed(rejection.name, rejection.reason);
          }
          break;
        }
        case 'SecretsApplied':
          say(`  ${ok('✓')} secrets set: ${(d.secrets as { name: string }[]).map((secret) => secret.name).join(', ')}`);
          break;
        case 'SecretsRejected':
          say(`  ${fail('✗')} ${d.reason}`);
          say(`failed: ${d.reason}`);
          return { state: 'failed', reason: d.reason, outcome };
        case 'BuildStarted':
          say(`  ${dim('…')} ${d.name}: building`);
          break;
        case 'BuildReused':
          say(`  = ${d.name}: unchanged, reusing ${d.image}`);
          break;
        case 'BuildSucceeded':
          say(`  ${ok('✓')} ${d.name}: built in ${((d.durationMs as number) / 1000).toFixed(1)} s`);
          break;
        case 'BuildFailed':
          say(
            `  ${fail('✗')} ${d.name}: build failed: ${d.reason}\n${(d.logTail as string)
              .split('\n')
              .map((line) => `      ${dim(line)}`)
              .join('\n')}`,
          );
          failed(d.name, `build failed: ${d.reason}`);
          break;
        case 'DeployFailed':
          say(`  ${fail('✗')} ${d.name}: ${d.reason}`);
          failed(d.name, d.reason);
          break;
        case 'BuildSuperseded':
          say(`  - ${d.name}: superseded by ${(d.supersededBy as string).slice(0, 7)}`);
          break;
        case 'FunctionDeployed':
          say(`  ${ok('✓')} ${d.name}: live at ${d.endpoint}`);
          outcome.live.push(d.endpoint);
          break;
        case 'FunctionRemoved':
          say(`  - ${d.name}: removed (${d.reason === 'not-in-stack' ? 'no longer in the stack file' : d.reason})`);
          outcome.removed.push({ name: d.name, reason: d.reason });
          break;
        case 'CommitStatusReported':
          if (d.context === 'stack-deploy' && d.state !== 'pending') {
            if (d.state === 'success') {
              succeeded = true;
              removalDeadline = Math.min(deadline, Date.now() + REMOVAL_WAIT_MS);
              break;
            }
            // Each failure's reason was printed as it came: the last line counts them instead of repeating them.
            const counted =
              outcome.failed.length > 0 ? `${outcome.failed.length} of ${declared} function(s) failed` : String(d.description);
            say(`failed: ${counted} — ${summary()}`);
            return { state: 'failed', reason: d.description, outcome };
          }
          break;
        default:
          break;
      }
    }
    if (succeeded && (!removalsPending() || Date.now() > removalDeadline)) return finish();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (succeeded) return finish();
  say(`still not settled after ${Math.round(timeoutMs / 1000)} s`);
  return { state: 'unsettled', reason: 'timeout', outcome };
}
