import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { ConfigError } from '../config/config.js';

/** What BuildKit's `Auth/Credentials` answers for one registry: empty strings mean anonymous, as BuildKit reads it. */
export type RegistryCredentials = Readonly<{ username: string; secret: string }>;

const ANONYMOUS: RegistryCredentials = { username: '', secret: '' };
/** Docker Hub's many spellings: config.json keys say `https://index.docker.io/v1/`, BuildKit asks for its API host. */
const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * The registry a config.json key or BuildKit's `Host` names, in one spelling: no scheme, no path, lower case, every
 * Docker Hub alias as `docker.io`; so `https://index.docker.io/v1/` answers BuildKit's `registry-1.docker.io`.
 */
export function registryHost(name: string): string {
  const host = name
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return DOCKER_HUB.has(host) ? 'docker.io' : host;
}

/**
 * The `auths` of a Docker config.json (REGISTRY_AUTH_FILE): `docker login`'s file, or a Kubernetes
 * `kubernetes.io/dockerconfigjson` Secret mounted as a file (the same JSON). Each entry has `auth` (base64 of
 * `user:password`), or `username` and `password`, or an `identitytoken` (sent as the secret with no user, as
 * docker's own credential provider does). Secrets never reach a message: errors name the file and the registry only.
 */
export class RegistryAuth {
  private constructor(private readonly byHost: ReadonlyMap<string, RegistryCredentials>) {}

  /** Reads the file now; a missing, unreadable or malformed file is a ConfigError naming REGISTRY_AUTH_FILE and the path. */
  static fromFile(path: string): RegistryAuth {
    let raw: string;
    try {
      raw = readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`;
      throw new ConfigError('REGISTRY_AUTH_FILE', `${path} ${why}; it should be a Docker config.json with "auths"`);
    }
    return RegistryAuth.parse(raw, path);
  }

  /** `source` names the file in errors; the text itself is never quoted (JSON.parse's message would quote it). */
  static parse(text: string, source: string): RegistryAuth {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new ConfigError('REGISTRY_AUTH_FILE', `${source} is not JSON; it should be a Docker config.json with "auths"`);
    }
    if (!isObject(document)) throw new ConfigError('REGISTRY_AUTH_FILE', `${source} is not a JSON object`);
    // The legacy ~/.dockercfg (and kubernetes.io/dockercfg Secrets) is the `auths` map itself.
    const auths = 'auths' in document ? document.auths : Object.values(document).every(isObject) ? document : undefined;
    if (!isObject(auths)) {
      const helpers = 'credsStore' in document || 'credHelpers' in document;
      throw new ConfigError(
        'REGISTRY_AUTH_FILE',
        `${source} has no "auths"${helpers ? ' (credential helpers are not supported: put the credentials in "auths")' : ''}`,
      );
    }
    const byHost = new Map<string, RegistryCredentials>();
    for (const [key, entry] of Object.entries(auths)) {
      const host = registryHost(key);
      const credentials = isObject(entry) ? entryCredentials(entry) : null;
      if (credentials === null)
        throw new ConfigError(
          'REGISTRY_AUTH_FILE',
          `${source}: auths."${key}" needs "auth" (base64 of user:password), or "username" and "password"`,
        );
      if (credentials !== ANONYMOUS) byHost.set(host, credentials);
    }
    return new RegistryAuth(byHost);
  }

  /** The credentials for the registry BuildKit names (`Host` of its request); anonymous when the file has none. */
  credentials(host: string): RegistryCredentials {
    return this.byHost.get(registryHost(host)) ?? ANONYMOUS;
  }

  /**
   * The text with every secret of the file (and its base64 `auth` form) replaced: what BuildKit says passes through
   * this before it reaches a build log, in case a daemon or registry ever echoes a credential.
   */
  redact(text: string): string {
    let redacted = text;
    for (const { username, secret } of this.byHost.values()) {
      if (secret.length < 4) continue; // replacing one or two characters everywhere would garble the log
      const auth = Buffer.from(`${username}:${secret}`).toString('base64');
      redacted = redacted.split(secret).join('REDACTED').split(auth).join('REDACTED');
    }
    return redacted;
  }

  /** The registries the file has credentials for, in their one spelling: what may be logged. */
  get hosts(): readonly string[] {
    return [...this.byHost.keys()];
  }

  // Printing or serialising this object shows hosts, never secrets.
  toJSON(): object {
    return { hosts: this.hosts };
  }

  [inspect.custom](): string {
    return `RegistryAuth { hosts: ${this.hosts.join(', ') || 'none'} }`;
  }
}

/** null: the entry is malformed; ANONYMOUS: an entry with nothing in it (docker writes `{}` for a helper's hosts). */
function entryCredentials(entry: Record<string, unknown>): RegistryCredentials | null {
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  if (text(entry.identitytoken)) return { username: '', secret: text(entry.identitytoken) };
  if (text(entry.auth)) {
    const decoded = Buffer.from(text(entry.auth), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return null;
    return { username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
  if (text(entry.username) || text(entry.password)) {
    if (!text(entry.username) || !text(entry.password)) return null;
    return { username: text(entry.username), secret: text(entry.password) };
  }
  return Object.keys(entry).some((key) => ['auth', 'username', 'password', 'identitytoken'].includes(key)) ? null : ANONYMOUS;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
