import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * GitHub's REST API as far as faasline uses it, with GitHub's shapes and auth rules — only because the real one
 * cannot be reached from here. App JWTs are checked for real (RS256 against the App's public key, `iss`, `iat`,
 * `exp` at most 10 minutes ahead); installation tokens are random and expire in an hour. Every token reaches only
 * the repositories it was given, as on GitHub: an installation token those of its installation (all of the account's,
 * or the selected ones), a personal or GITHUB_TOKEN-like token those listed for it. Elsewhere GitHub answers 403
 * "Resource not accessible by integration" for a repository of the installation's account it was not given, and
 * 404 for any other (it does not tell a token which repositories exist).
 */
export type RecordedStatus = Readonly<{
  owner: string;
  repo: string;
  sha: string;
  state: string;
  context: string;
  description: string | null;
  targetUrl: string | null;
}>;

export type RecordedAnnotation = Readonly<{
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title: string | null;
}>;

/** A check run as GitHub keeps it: updates change it in place, and their annotations are appended. */
export type RecordedCheckRun = {
  id: number;
  appId: number;
  owner: string;
  repo: string;
  headSha: string;
  name: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  externalId: string | null;
  detailsUrl: string | null;
  startedAt: string | null;
  completedAt: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  annotations: RecordedAnnotation[];
  /** Every status it went through, in order (`in_progress`, `completed`, ...). */
  history: string[];
};

export type FakeGitHub = Readonly<{
  url: string;
  /** Installation tokens issued, by installation id. */
  issued: ReadonlyMap<number, readonly string[]>;
  /** Commit statuses accepted, in arrival order. */
  statuses: readonly RecordedStatus[];
  /** Every request to create a status, accepted or not, with the status code it was answered. */
  statusRequests: readonly { owner: string; repo: string; status: number }[];
  /** Check runs created, in creation order (the Checks API: GitHub App installation tokens only). */
  checkRuns: readonly RecordedCheckRun[];
  /** Every request to create or update a check run, with the status code and the validation message it was answered. */
  checkRunRequests: readonly { method: string; owner: string; repo: string; status: number; message: string | null }[];
  /** The next status requests answer these codes, in order (e.g. 502 to exercise retries). */
  failStatuses: (...codes: number[]) => void;
  close: () => Promise<void>;
}>;

/** An installation of the App on `account`: all its repositories, or only `repositories` (`owner/name`) when given. */
export type FakeInstallation = Readonly<{ id: number; account: string; repositories?: readonly string[] }>;

export type FakeGitHubOptions = Readonly<{
  appId: string;
  appPublicKey: string | KeyObject;
  installations: readonly FakeInstallation[];
  /** Tokens that are not the App's (a PAT, a GITHUB_TOKEN), each with the repositories (`owner/name`) it was given. */
  tokens?: Readonly<Record<string, readonly string[]>>;
}>;

type Grant = Readonly<{ expiresAt: number; account: string | null; reaches: (fullName: string) => boolean }>;
const lower = (names: readonly string[]) => new Set(names.map((name) => name.toLowerCase()));

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const publicKey = typeof options.appPublicKey === 'string' ? createPublicKey(options.appPublicKey) : options.appPublicKey;
  const issued = new Map<number, string[]>();
  const statuses: RecordedStatus[] = [];
  const statusRequests: { owner: string; repo: string; status: number }[] = [];
  const checkRuns: RecordedCheckRun[] = [];
  const checkRunRequests: { method: string; owner: string; repo: string; status: number; message: string | null }[] = [];
  const failures: number[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => route(request, response, Buffer.concat(chunks).toString()));
  });

  const grants = new Map<string, Grant>(
    Object.entries(options.tokens ?? {}).map(([token, repositories]) => {
      const given = lower(repositories);
      return [token, { expiresAt: Infinity, account: null, reaches: (fullName: string) => given.has(fullName) }];
    }),
  );
  const grantOf = (header: string | undefined) => {
    const token = /^(?:token|Bearer) (.+)$/i.exec(header ?? '')?.[1];
    const grant = token === undefined ? undefined : grants.get(token);
    return grant && grant.expiresAt > Date.now() ? grant : null;
  };

  function route(request: IncomingMessage, response: ServerResponse, raw: string): void {
    const status = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(new URL(request.url ?? '/', 'http://x').pathname);
    if (status && request.method === 'POST') return createStatus(request, response, raw, status[1]!, status[2]!, status[3]!);
    const listed = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([0-9a-f]{40})\/check-runs$/.exec(
      new URL(request.url ?? '/', 'http://x').pathname,
    );
    if (listed && request.method === 'GET') return listCheckRuns(request, response, listed[1]!, listed[2]!, listed[3]!);
    const checks = /^\/repos\/([^/]+)\/([^/]+)\/check-runs(?:\/(\d+))?$/.exec(new URL(request.url ?? '/', 'http://x').pathname);
    if (checks && ((request.method === 'POST' && !checks[3]) || (request.method === 'PATCH' && checks[3])))
      return checkRun(request, response, raw, checks[1]!, checks[2]!, checks[3] === undefined ? null : Number(checks[3]));
    const match = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(new URL(request.url ?? '/', 'http://x').pathname);
    if (!match || request.method !== 'POST')
      return send(response, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    const problem = jwtProblem(request.headers.authorization, publicKey, options.appId);
    if (problem) return send(response, 401, { message: problem, documentation_url: 'https://docs.github.com/rest' });
    const installationId = Number(match[1]);
    const installation = options.installations.find((candidate) => candidate.id === installationId);
    if (!installation)
      return send(response, 404, {
        message: 'Not Found',
        documentation_url: 'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app',
      });
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    issued.set(installationId, [...(issued.get(installationId) ?? []), token]);
    const account = installation.account.toLowerCase();
    const selected = installation.repositories && lower(installation.repositories);
    grants.set(token, {
      expiresAt: Date.now() + 3600_000,
      account,
      reaches: (fullName) => (selected ? selected.has(fullName) : fullName.startsWith(`${account}/`)),
    });
    send(response, 201, {
      token,
      expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions: { contents: 'read', statuses: 'write', metadata: 'read' },
      repository_selection: installation.repositories ? 'selected' : 'all',
    });
  }

  function createStatus(request: IncomingMessage, response: ServerResponse, raw: string, owner: string, repo: string, sha: string): void {
    const answer = (code: number, body: unknown) => {
      statusRequests.push({ owner, repo, status: code });
      send(response, code, body);
    };
    const grant = grantOf(request.headers.authorization);
    if (!grant) return answer(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    const fullName = `${owner}/${repo}`.toLowerCase();
    if (!grant.reaches(fullName)) {
      const documentation_url = 'https://docs.github.com/rest/commits/statuses#create-a-commit-status';
      if (grant.account !== null && fullName.startsWith(`${grant.account}/`))
        return answer(403, { message: 'Resource not accessible by integration', documentation_url });
      return answer(404, { message: 'Not Found', documentation_url });
    }
    const injected = failures.shift();
    if (injected !== undefined) return answer(injected, { message: 'Server Error' });
    let body: { state?: unknown; description?: unknown; context?: unknown; target_url?: unknown };
    try {
      body = JSON.parse(raw);
    } catch {
      return answer(400, { message: 'Problems parsing JSON' });
    }
    if (!['error', 'failure', 'pending', 'success'].includes(body.state as string)) {
      return answer(422, {
        message: 'Validation Failed',
        errors: [{ resource: 'Status', code: 'custom', field: 'state', message: 'state is not included in the list' }],
      });
    }
    if (typeof body.description === 'string' && body.description.length > 140) {
      return answer(422, {
        message: 'Validation Failed',
        errors: [
          { resource: 'Status', code: 'custom', field: 'description', message: 'description is too long (maximum is 140 characters)' },
        ],
      });
    }
    const recorded: RecordedStatus = {
      owner,
      repo,
      sha,
      state: body.state as string,
      context: typeof body.context === 'string' ? body.context : 'default',
      description: typeof body.description === 'string' ? body.description : null,
      targetUrl: typeof body.target_url === 'string' ? body.target_url : null,
    };
    statuses.push(recorded);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    answer(201, {
      url: `https://api.github.com/repos/${owner}/${repo}/statuses/${sha}`,
      id: statuses.length,
      state: recorded.state,
      description: recorded.description,
      target_url: recorded.targetUrl,
      context: recorded.context,
      created_at: now,
      updated_at: now,
    });
  }

  /**
   * POST /repos/{owner}/{repo}/check-runs and PATCH …/check-runs/{id}, validated as GitHub does: App installation
   * tokens only (403 for any other token), `name` and `head_sha` required on create, the status and conclusion
   * enums, a conclusion when the run is completed (a conclusion alone completes it), ISO 8601 times, and an
   * `output` with `title` and `summary` (at most 65535 characters), at most 50 annotations per request, each with
   * its path, lines, level and message. Anything else is a 422 naming the field.
   */
  function checkRun(request: IncomingMessage, response: ServerResponse, raw: string, owner: string, repo: string, id: number | null): void {
    const method = request.method ?? '';
    const documentation_url = `https://docs.github.com/rest/checks/runs#${id === null ? 'create' : 'update'}-a-check-run`;
    const answer = (code: number, body: Record<string, unknown>) => {
      checkRunRequests.push({ method, owner, repo, status: code, message: typeof body.message === 'string' ? body.message : null });
      send(response, code, body);
    };
    const invalid = (message: string) => answer(422, { message: `Invalid request.\n\n${message}`, documentation_url, status: '422' });
    const grant = grantOf(request.headers.authorization);
    if (!grant) return answer(401, { message: 'Bad credentials', documentation_url });
    if (grant.account === null) return answer(403, { message: 'You must authenticate via a GitHub App.', documentation_url });
    const fullName = `${owner}/${repo}`.toLowerCase();
    if (!grant.reaches(fullName)) {
      if (fullName.startsWith(`${grant.account}/`))
        return answer(403, { message: 'Resource not accessible by integration', documentation_url });
      return answer(404, { message: 'Not Found', documentation_url });
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    } catch {
      return answer(400, { message: 'Problems parsing JSON', documentation_url });
    }
    const existing = id === null ? null : checkRuns.find((run) => run.id === id && `${run.owner}/${run.repo}`.toLowerCase() === fullName);
    if (id !== null && !existing) return answer(404, { message: 'Not Found', documentation_url });
    const problem = checkRunProblem(body, id === null, existing?.status ?? null);
    if (problem) return invalid(problem);
    const output = body.output as { title?: string; summary?: string; text?: string; annotations?: RecordedAnnotation[] } | undefined;
    const status =
      body.conclusion !== undefined
        ? 'completed'
        : ((body.status as RecordedCheckRun['status'] | undefined) ?? existing?.status ?? 'queued');
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const run: RecordedCheckRun = existing ?? {
      id: 4000 + checkRuns.length + 1,
      appId: Number(options.appId),
      owner,
      repo,
      headSha: body.head_sha as string,
      name: body.name as string,
      status,
      conclusion: null,
      externalId: null,
      detailsUrl: null,
      startedAt: null,
      completedAt: null,
      output: { title: null, summary: null, text: null },
      annotations: [],
      history: [],
    };
    if (typeof body.name === 'string') run.name = body.name;
    run.status = status;
    run.history.push(status);
    if (typeof body.conclusion === 'string') run.conclusion = body.conclusion;
    if (typeof body.external_id === 'string') run.externalId = body.external_id;
    if (typeof body.details_url === 'string') run.detailsUrl = body.details_url;
    run.startedAt = typeof body.started_at === 'string' ? body.started_at : (run.startedAt ?? now);
    if (status === 'completed') run.completedAt = typeof body.completed_at === 'string' ? body.completed_at : (run.completedAt ?? now);
    if (output) {
      run.output = { title: output.title ?? null, summary: output.summary ?? null, text: output.text ?? null };
      // GitHub appends the annotations of each update to those the check run has.
      run.annotations.push(
        ...(output.annotations ?? []).map((a) => ({
          path: a.path,
          start_line: a.start_line,
          end_line: a.end_line,
          annotation_level: a.annotation_level,
          message: a.message,
          title: a.title ?? null,
        })),
      );
    }
    if (!existing) checkRuns.push(run);
    answer(existing ? 200 : 201, {
      id: run.id,
      head_sha: run.headSha,
      external_id: run.externalId ?? '',
      url: `https://api.github.com/repos/${owner}/${repo}/check-runs/${run.id}`,
      html_url: `https://github.com/${owner}/${repo}/runs/${run.id}`,
      details_url: run.detailsUrl,
      status: run.status,
      conclusion: run.conclusion,
      started_at: run.startedAt,
      completed_at: run.completedAt,
      output: {
        title: run.output.title,
        summary: run.output.summary,
        text: run.output.text,
        annotations_count: run.annotations.length,
        annotations_url: `https://api.github.com/repos/${owner}/${repo}/check-runs/${run.id}/annotations`,
      },
      name: run.name,
      check_suite: { id: 5000 + run.id },
      app: { id: run.appId, slug: 'faasline' },
      pull_requests: [],
    });
  }

  /** GET /repos/{owner}/{repo}/commits/{sha}/check-runs[?check_name=]: any token that reaches the repository may read them. */
  function listCheckRuns(request: IncomingMessage, response: ServerResponse, owner: string, repo: string, sha: string): void {
    const documentation_url = 'https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference';
    const grant = grantOf(request.headers.authorization);
    if (!grant) return send(response, 401, { message: 'Bad credentials', documentation_url });
    const fullName = `${owner}/${repo}`.toLowerCase();
    if (!grant.reaches(fullName)) return send(response, 404, { message: 'Not Found', documentation_url });
    const name = new URL(request.url ?? '/', 'http://x').searchParams.get('check_name');
    const found = checkRuns.filter(
      (run) => `${run.owner}/${run.repo}`.toLowerCase() === fullName && run.headSha === sha && (name === null || run.name === name),
    );
    send(response, 200, {
      total_count: found.length,
      check_runs: found.map((run) => ({
        id: run.id,
        head_sha: run.headSha,
        external_id: run.externalId ?? '',
        name: run.name,
        status: run.status,
        conclusion: run.conclusion,
      })),
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    issued,
    statuses,
    statusRequests,
    checkRuns,
    checkRunRequests,
    failStatuses: (...codes) => void failures.push(...codes),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function jwtProblem(authorization: string | undefined, publicKey: KeyObject, appId: string): string | null {
  const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return 'A JSON web token could not be decoded';
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return 'A JSON web token could not be decoded';
  const { alg } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string };
  if (alg !== 'RS256')
    return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
  const valid = createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(publicKey, Buffer.from(signature, 'base64url'));
  if (!valid) return 'A JSON web token could not be decoded';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iss?: string | number; iat?: number; exp?: number };
  const now = Math.floor(Date.now() / 1000);
  if (String(claims.iss) !== appId) return `Integration not found`;
  if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + 600 + 30)
    return "'Expiration time' claim ('exp') is too far in the future";
  if (typeof claims.iat !== 'number' || claims.iat > now + 30)
    return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
  return null;
}

const CHECK_STATUSES = ['queued', 'in_progress', 'completed'];
const CONCLUSIONS = ['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out'];
const LEVELS = ['notice', 'warning', 'failure'];
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const MAX_TEXT = 65535;

/** Why GitHub would refuse this check run body (one message, as its 422 says it), or null. */
function checkRunProblem(body: Record<string, unknown>, creating: boolean, current: string | null): string | null {
  const isText = (value: unknown) => typeof value === 'string';
  if (creating && (!isText(body.name) || (body.name as string).length === 0))
    return 'No subschema in "anyOf" matched.\n"name" wasn\'t supplied.';
  if (creating && (!isText(body.head_sha) || !/^[0-9a-f]{40}$/.test(body.head_sha as string)))
    return 'No commit found for SHA: ' + String(body.head_sha);
  if (body.name !== undefined && !isText(body.name)) return "For 'properties/name', " + JSON.stringify(body.name) + ' is not a string.';
  if (body.status !== undefined && !CHECK_STATUSES.includes(body.status as string))
    return `For 'properties/status', ${JSON.stringify(body.status)} is not one of ${CHECK_STATUSES.join(', ')}.`;
  if (body.conclusion !== undefined && !CONCLUSIONS.includes(body.conclusion as string))
    return `For 'properties/conclusion', ${JSON.stringify(body.conclusion)} is not one of ${CONCLUSIONS.join(', ')}.`;
  const completing =
    body.status === 'completed' || (body.status === undefined && current === 'completed') || body.completed_at !== undefined;
  if (completing && body.conclusion === undefined) return 'Conclusion is required when status is completed (or completed_at is given).';
  for (const field of ['started_at', 'completed_at'])
    if (body[field] !== undefined && !(isText(body[field]) && ISO_8601.test(body[field] as string)))
      return `For 'properties/${field}', ${JSON.stringify(body[field])} is not a timestamp (ISO 8601: YYYY-MM-DDTHH:MM:SSZ).`;
  if (body.details_url !== undefined && !(isText(body.details_url) && URL.canParse(body.details_url as string)))
    return `For 'properties/details_url', ${JSON.stringify(body.details_url)} is not a URL.`;
  if (body.external_id !== undefined && !isText(body.external_id)) return `For 'properties/external_id', it is not a string.`;
  if (body.output === undefined) return null;
  const output = body.output as Record<string, unknown>;
  if (typeof output !== 'object' || output === null) return `For 'properties/output', it is not an object.`;
  if (!isText(output.title)) return '"title" wasn\'t supplied.';
  if (!isText(output.summary)) return '"summary" wasn\'t supplied.';
  if ((output.summary as string).length > MAX_TEXT)
    return `Only ${MAX_TEXT} characters are allowed in the summary; you sent ${(output.summary as string).length}.`;
  if (output.text !== undefined && (!isText(output.text) || (output.text as string).length > MAX_TEXT))
    return `Only ${MAX_TEXT} characters are allowed in the text.`;
  if (output.annotations === undefined) return null;
  if (!Array.isArray(output.annotations)) return `For 'properties/annotations', it is not an array.`;
  if (output.annotations.length > 50) return 'Only 50 annotations are allowed per request.';
  for (const [index, item] of (output.annotations as Record<string, unknown>[]).entries()) {
    const at = `annotations[${index}]`;
    if (!isText(item.path) || (item.path as string).length === 0) return `"path" wasn't supplied (${at}).`;
    if (!Number.isInteger(item.start_line) || (item.start_line as number) < 1) return `"start_line" wasn't supplied (${at}).`;
    if (!Number.isInteger(item.end_line) || (item.end_line as number) < (item.start_line as number))
      return `"end_line" wasn't supplied or is before start_line (${at}).`;
    if (!LEVELS.includes(item.annotation_level as string))
      return `For 'annotation_level', ${JSON.stringify(item.annotation_level)} is not one of ${LEVELS.join(', ')} (${at}).`;
    if (!isText(item.message) || (item.message as string).length === 0) return `"message" wasn't supplied (${at}).`;
    if (item.title !== undefined && !isText(item.title)) return `For 'title', it is not a string (${at}).`;
  }
  return null;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3; format=json' })
    .end(JSON.stringify(body));
}
