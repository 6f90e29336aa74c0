import type { PushDelivery, RepositoryRef } from '#domain';

/**
 * The parts of GitHub's webhook payloads faasline acts on, checked field by field: anything else in a payload
 * is ignored, anything missing or mistyped here is a 400 naming the field.
 */
export type PayloadCheck<T> = Readonly<{ ok: true; value: T }> | Readonly<{ ok: false; reason: string }>;

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

class Invalid extends Error {}

type Json = Record<string, unknown>;

const object = (value: unknown, at: string): Json => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Invalid(`${at} must be an object`);
  return value as Json;
};
const text = (value: unknown, at: string): string => {
  if (typeof value !== 'string' || value === '') throw new Invalid(`${at} must be a non-empty string`);
  return value;
};
const id = (value: unknown, at: string): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new Invalid(`${at} must be a whole number`);
  return value;
};
const flag = (value: unknown, at: string, fallback?: boolean): boolean => {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'boolean') throw new Invalid(`${at} must be true or false`);
  return value;
};
const array = (value: unknown, at: string): unknown[] => {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Invalid(`${at} must be a list`);
  return value;
};

/** GitHub sends `repository.pushed_at` as Unix seconds in push payloads and as an ISO time elsewhere. */
const pushedAtOf = (value: unknown): string | null => {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && /^[0-9A-Za-z:.+-]{1,40}$/.test(value)) return value;
  throw new Invalid('repository.pushed_at must be a Unix time or an ISO time');
};

const SHA = /^[0-9a-f]{40}$/;
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;

function check<T>(parse: () => T): PayloadCheck<T> {
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, reason: error.message };
    throw error;
  }
}

const senderOf = (body: Json) => (body.sender === undefined ? 'unknown' : text(object(body.sender, 'sender').login, 'sender.login'));

export function parsePushPayload(body: unknown): PayloadCheck<PushPayload> {
  return check(() => {
    const push = object(body, 'payload');
    const repository = object(push.repository, 'repository');
    const owner = object(repository.owner, 'repository.owner');
    const ownerLogin = text(owner.login ?? owner.name, 'repository.owner.login');
    if (!OWNER.test(ownerLogin)) throw new Invalid('repository.owner.login is not a GitHub login');
    const repo = text(repository.name, 'repository.name');
    if (!REPO.test(repo)) throw new Invalid('repository.name is not a GitHub repository name');
    const after = text(push.after, 'after');
    if (!SHA.test(after)) throw new Invalid('after must be a 40-character commit SHA');
    const before = text(push.before, 'before');
    if (!SHA.test(before)) throw new Invalid('before must be a 40-character commit SHA');
    const ref = text(push.ref, 'ref');
    if (!ref.startsWith('refs/')) throw new Invalid('ref must start with refs/');
    const cloneUrl = text(repository.clone_url, 'repository.clone_url');
    if (!URL.canParse(cloneUrl)) throw new Invalid('repository.clone_url must be a URL');
    const installation = push.installation === undefined || push.installation === null ? null : object(push.installation, 'installation');
    const pusher = push.pusher === undefined ? null : object(push.pusher, 'pusher');
    return {
      owner: ownerLogin,
      ownerId: id(owner.id, 'repository.owner.id'),
      repo,
      repositoryId: id(repository.id, 'repository.id'),
      private: flag(repository.private, 'repository.private'),
      ref,
      before,
      after,
      defaultBranch: text(repository.default_branch ?? repository.master_branch, 'repository.default_branch'),
      pushedAt: pushedAtOf(repository.pushed_at),
      cloneUrl,
      installationId: installation === null ? null : id(installation.id, 'installation.id'),
      pusher: pusher === null ? senderOf(push) : text(pusher.name, 'pusher.name'),
      sender: senderOf(push),
    };
  });
}

function repositoryRefs(value: unknown, at: string): RepositoryRef[] {
  return array(value, at).map((entry, index) => {
    const repository = object(entry, `${at}[${index}]`);
    const fullName = text(repository.full_name, `${at}[${index}].full_name`);
    const [owner = '', repo = ''] = fullName.split('/');
    if (!OWNER.test(owner) || !REPO.test(repo)) throw new Invalid(`${at}[${index}].full_name must be owner/repository`);
    return { owner, repo, repositoryId: id(repository.id, `${at}[${index}].id`), private: flag(repository.private, `${at}[${index}].private`, false) };
  });
}

function installationOf(body: Json): { installationId: number; account: string; accountId: number } {
  const installation = object(body.installation, 'installation');
  const account = object(installation.account, 'installation.account');
  return { installationId: id(installation.id, 'installation.id'), account: text(account.login, 'installation.account.login'), accountId: id(account.id, 'installation.account.id') };
}

export function parseInstallationPayload(body: unknown): PayloadCheck<InstallationPayload> {
  return check(() => {
    const payload = object(body, 'payload');
    return {
      action: text(payload.action, 'action'),
      ...installationOf(payload),
      repositories: repositoryRefs(payload.repositories, 'repositories'),
      sender: senderOf(payload),
    };
  });
}

export function parseInstallationRepositoriesPayload(body: unknown): PayloadCheck<InstallationRepositoriesPayload> {
  return check(() => {
    const payload = object(body, 'payload');
    const installation = object(payload.installation, 'installation');
    return {
      action: text(payload.action, 'action'),
      installationId: id(installation.id, 'installation.id'),
      added: repositoryRefs(payload.repositories_added, 'repositories_added'),
      removed: repositoryRefs(payload.repositories_removed, 'repositories_removed'),
      sender: senderOf(payload),
    };
  });
}
