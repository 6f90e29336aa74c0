import { z } from 'zod';
import type { PushDelivery, RepositoryRef, RerunRequest } from '#domain';

/**
 * The parts of GitHub's webhook payloads faasline acts on: anything else in a payload is ignored, anything
 * missing or mistyped here is a 400 naming the field (`payloadProblem`).
 */
export type PushPayload = Omit<PushDelivery, 'deliveryId' | 'receivedAt'> & Readonly<{ sender: string }>;

export type InstallationPayload = Readonly<{
  action: string;
  installationId: number;
  account: string;
  accountId: number;
  repositories: readonly RepositoryRef[];
  sender: string;
}>;

export type InstallationRepositoriesPayload = Readonly<{
  action: string;
  installationId: number;
  added: readonly RepositoryRef[];
  removed: readonly RepositoryRef[];
  sender: string;
}>;

// Messages leave out the field: `payloadProblem` puts its path in front.
const object = <Shape extends z.ZodRawShape>(shape: Shape) => z.object(shape, { error: 'must be an object' });
const text = z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' });
const id = z.int({ error: 'must be a whole number' }).min(0, { error: 'must be a whole number' });
const flag = z.boolean({ error: 'must be true or false' });
/** Absent or null is an empty list. */
const list = <T extends z.ZodType>(item: T) => z.preprocess((value) => value ?? [], z.array(item, { error: 'must be a list' }));

const SHA = /^[0-9a-f]{40}$/;
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
const sha = text.regex(SHA, { error: 'must be a 40-character commit SHA' });

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** GitHub names a field differently in older payloads: `fallback` stands in for an absent (or null) `field`. */
const orOlderName = <T extends z.ZodType>(field: string, fallback: string, schema: T) =>
  z.preprocess((value) => (isRecord(value) ? { ...value, [field]: value[field] ?? value[fallback] } : value), schema);

/** GitHub sends `repository.pushed_at` as Unix seconds in push payloads and as an ISO time elsewhere. */
const unixOrIsoTime = { error: 'must be a Unix time or an ISO time' };
const pushedAt = z
  .union(
    [z.int(unixOrIsoTime).min(0, unixOrIsoTime).transform(String), z.string(unixOrIsoTime).regex(/^[0-9A-Za-z:.+-]{1,40}$/, unixOrIsoTime)],
    unixOrIsoTime,
  )
  .nullish()
  .transform((value) => value ?? null);

const sender = object({ login: text })
  .optional()
  .transform((value) => value?.login ?? 'unknown');

const pushRepository = orOlderName(
  'default_branch',
  'master_branch',
  object({
    owner: orOlderName('login', 'name', object({ login: text.regex(OWNER, { error: 'is not a GitHub login' }), id })),
    name: text.regex(REPO, { error: 'is not a GitHub repository name' }),
    clone_url: text.refine(URL.canParse, { error: 'must be a URL' }),
    id,
    private: flag,
    default_branch: text,
    pushed_at: pushedAt,
  }),
);

export const pushPayload = object({
  repository: pushRepository,
  after: sha,
  before: sha,
  ref: text.startsWith('refs/', { error: 'must start with refs/' }),
  installation: object({ id }).nullish(),
  pusher: object({ name: text }).optional(),
  sender,
}).transform(({ repository, ...push }): PushPayload => ({
  owner: repository.owner.login,
  ownerId: repository.owner.id,
  repo: repository.name,
  repositoryId: repository.id,
  private: repository.private,
  ref: push.ref,
  before: push.before,
  after: push.after,
  defaultBranch: repository.default_branch,
  pushedAt: repository.pushed_at,
  cloneUrl: repository.clone_url,
  installationId: push.installation?.id ?? null,
  pusher: push.pusher?.name ?? push.sender,
  sender: push.sender,
}));

/** `check_run` deliveries: only `rerequested` (the re-run button) changes anything. */
export type CheckRunPayload = Readonly<{
  action: string;
  rerun: Omit<RerunRequest, 'deliveryId' | 'receivedAt' | 'appId'>;
}>;

export const checkRunPayload = object({
  action: text,
  check_run: object({
    id,
    head_sha: sha,
    app: object({ id }),
    check_suite: object({
      head_branch: text.nullish().transform((value) => value ?? null),
      before: sha.nullish().transform((value) => value ?? null),
    }),
  }),
  repository: pushRepository,
  installation: object({ id }).nullish(),
  sender,
}).transform(({ action, check_run: run, repository, installation, sender }): CheckRunPayload => ({
  action,
  rerun: {
    owner: repository.owner.login,
    ownerId: repository.owner.id,
    repo: repository.name,
    repositoryId: repository.id,
    private: repository.private,
    cloneUrl: repository.clone_url,
    defaultBranch: repository.default_branch,
    installationId: installation?.id ?? null,
    checkRunId: run.id,
    checkRunAppId: run.app.id,
    branch: run.check_suite.head_branch,
    before: run.check_suite.before,
    sha: run.head_sha,
    sender,
  },
}));

/** An entry of an installation's repository list; `full_name` is what every such list carries. */
const repositoryRef = object({
  full_name: text.refine(
    (fullName) => {
      const [owner = '', repo = ''] = fullName.split('/');
      return OWNER.test(owner) && REPO.test(repo);
    },
    { error: 'must be owner/repository' },
  ),
  id,
  private: flag.default(false),
}).transform(({ full_name, id, private: isPrivate }): RepositoryRef => {
  const [owner = '', repo = ''] = full_name.split('/');
  return { owner, repo, repositoryId: id, private: isPrivate };
});

export const installationPayload = object({
  action: text,
  installation: object({ account: object({ login: text, id }), id }),
  repositories: list(repositoryRef),
  sender,
}).transform(({ action, installation, repositories, sender }): InstallationPayload => ({
  action,
  installationId: installation.id,
  account: installation.account.login,
  accountId: installation.account.id,
  repositories,
  sender,
}));

export const installationRepositoriesPayload = object({
  installation: object({ id }),
  action: text,
  repositories_added: list(repositoryRef),
  repositories_removed: list(repositoryRef),
  sender,
}).transform((payload): InstallationRepositoriesPayload => ({
  action: payload.action,
  installationId: payload.installation.id,
  added: payload.repositories_added,
  removed: payload.repositories_removed,
  sender: payload.sender,
}));

/** The first problem as one line naming the field: `repository.owner.login is not a GitHub login`. */
export function payloadProblem(error: z.ZodError): string {
  const [issue] = error.issues;
  const at = issue!.path.reduce<string>(
    (path, key) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${String(key)}` : String(key)),
    '',
  );
  return `${at || 'payload'} ${issue!.message}`;
}
