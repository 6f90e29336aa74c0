import { createHash } from 'node:crypto';
import { dump, FAILSAFE_SCHEMA, load, YAMLException } from 'js-yaml';
import sodium from 'libsodium-wrappers';
import { isSecretName } from '#domain';

/**
 * Sealed secrets (OpenFaaS Cloud's SealedSecrets without Kubernetes): anyone seals a value to the server's public
 * X25519 key with libsodium's sealed box; only the server's private key opens it. `secrets.yml` beside `stack.yml`
 * carries them: `keyId: <hex>` and `secrets: {<name>: <base64 sealed value>}`. Nothing here ever puts a value (or
 * its hash) in a message: reasons name the secret only.
 */
export const SECRETS_FILE_NAMES = ['secrets.yml', 'secrets.yaml'] as const;
export const MAX_SECRETS_FILE_BYTES = 256 * 1024;
export const MAX_SECRET_BYTES = 64 * 1024;
export const MAX_SECRETS = 50;
/** A sealed box adds an ephemeral public key and a MAC: 48 bytes. */
const SEAL_OVERHEAD = 48;
const MAX_SEALED_BASE64 = Math.ceil((MAX_SECRET_BYTES + SEAL_OVERHEAD) / 3) * 4;
/** A name the handler reads at /var/openfaas/secrets/<name>: a Kubernetes secret name, room left for `<owner>-`. */
const MAX_SECRET_NAME = 200;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export type SealKey = Readonly<{ publicKey: Uint8Array; privateKey: Uint8Array | null; keyId: string }>;
export type SealedSecret = Readonly<{ name: string; sealed: string }>;
export type SecretsFile = Readonly<{ keyId: string; secrets: readonly SealedSecret[] }>;

/** The first 16 hex characters of sha256(public key): what secrets.yml says it was sealed to. */
export const keyIdOf = (publicKey: Uint8Array): string => createHash('sha256').update(publicKey).digest('hex').slice(0, 16);

/** The server's key from its 32-byte private key (base64 or base64url); the public key is derived from it. */
export async function sealKeyFromPrivate(privateKeyBase64: string): Promise<SealKey> {
  const privateKey = new Uint8Array(Buffer.from(privateKeyBase64.trim(), 'base64'));
  if (privateKey.length !== 32) throw new Error(`SEAL_PRIVATE_KEY must be 32 bytes in base64, not ${privateKey.length} bytes`);
  await sodium.ready;
  const publicKey = sodium.crypto_scalarmult_base(privateKey);
  return { publicKey, privateKey, keyId: keyIdOf(publicKey) };
}

/** A public key as `GET /api/v1/seal-key` gives it (base64). */
export function sealKeyFromPublic(publicKeyBase64: string): SealKey {
  const publicKey = new Uint8Array(Buffer.from(publicKeyBase64, 'base64'));
  if (publicKey.length !== 32) throw new Error(`a seal key is 32 bytes, this one is ${publicKey.length}`);
  return { publicKey, privateKey: null, keyId: keyIdOf(publicKey) };
}

/** Seals a value to the key: base64 of the sealed box. Each seal differs (a fresh ephemeral key). */
export async function seal(value: string | Uint8Array, key: Pick<SealKey, 'publicKey'>): Promise<string> {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length > MAX_SECRET_BYTES) throw new Error(`a secret value is at most ${MAX_SECRET_BYTES / 1024} KiB`);
  await sodium.ready;
  return Buffer.from(sodium.crypto_box_seal(bytes, key.publicKey)).toString('base64');
}

export class SealedSecretProblem extends Error {
  override readonly name = 'SealedSecretProblem';
}

/** Opens a sealed value of secret `name`; a value that does not open is a problem naming the secret, never the value. */
export async function openSealed(name: string, sealed: string, key: SealKey): Promise<Buffer> {
  if (key.privateKey === null) throw new Error('opening a sealed secret needs the private key');
  await sodium.ready;
  try {
    return Buffer.from(sodium.crypto_box_seal_open(new Uint8Array(Buffer.from(sealed, 'base64')), key.publicKey, key.privateKey));
  } catch {
    throw new SealedSecretProblem(`secret ${name} cannot be opened with this server's key ${key.keyId}: seal it again with faasline seal`);
  }
}

/**
 * What events and lists show of a sealed secret: a hash of the key id and the sealed bytes, never of the value
 * (a hash of a short value could be guessed back; a sealed box is random).
 */
export const sealedFingerprint = (keyId: string, sealed: string): string =>
  `sha256:${createHash('sha256').update(`${keyId}:${sealed}`).digest('hex')}`;

/** Why a secret name cannot be used, or null. */
export function secretNameProblem(name: string): string | null {
  if (name.length > MAX_SECRET_NAME) return `secret name ${name.slice(0, 40)}… is over ${MAX_SECRET_NAME} characters`;
  if (!isSecretName(name))
    return `secret name "${name.slice(0, 60)}" must be lower-case letters, digits, "-" and ".", starting and ending alphanumeric`;
  return null;
}

/** Why a sealed value cannot be one, or null (its name only in the reason). */
export function sealedValueProblem(name: string, sealed: unknown): string | null {
  if (typeof sealed !== 'string' || sealed === '') return `secret ${name} must be a base64 sealed value (faasline seal writes it)`;
  if (sealed.length > MAX_SEALED_BASE64) return `secret ${name} is over ${MAX_SECRET_BYTES / 1024} KiB`;
  if (!BASE64.test(sealed) || Buffer.from(sealed, 'base64').length <= SEAL_OVERHEAD)
    return `secret ${name} is not a sealed value in base64 (faasline seal writes it)`;
  return null;
}

export type ParsedSecretsFile = Readonly<{ ok: true; file: SecretsFile }> | Readonly<{ ok: false; reason: string }>;

/**
 * Reads and checks a secrets.yml: its keyId, each name and each sealed value's shape. `expectedKeyId` set: sealed
 * to another key is refused, saying both key ids.
 */
export function parseSecretsFile(text: string, fileName = 'secrets.yml', expectedKeyId?: string): ParsedSecretsFile {
  const refuse = (reason: string): ParsedSecretsFile => ({ ok: false, reason: `${fileName}: ${reason}` });
  if (Buffer.byteLength(text) > MAX_SECRETS_FILE_BYTES) return refuse(`over ${MAX_SECRETS_FILE_BYTES / 1024} KB`);
  let document: unknown;
  try {
    // Strings only: no YAML types, so nothing in the file is ever turned into something else.
    document = load(text, { schema: FAILSAFE_SCHEMA, json: false });
  } catch (error) {
    return refuse(`not valid YAML (${error instanceof YAMLException ? error.reason : 'unreadable'})`);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return refuse('must be a map with keyId and secrets');
  const { keyId, secrets, ...rest } = document as Record<string, unknown>;
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined) return refuse(`unknown key "${unknownKey.slice(0, 40)}": only keyId and secrets`);
  if (typeof keyId !== 'string' || !/^[0-9a-f]{16}$/.test(keyId)) return refuse('keyId must be the 16 hex characters faasline seal writes');
  if (expectedKeyId !== undefined && keyId !== expectedKeyId)
    return refuse(`sealed to key ${keyId}, but this server's key is ${expectedKeyId}: seal the secrets again with faasline seal`);
  if (secrets === undefined || secrets === null || secrets === '') return { ok: true, file: { keyId, secrets: [] } };
  if (typeof secrets !== 'object' || Array.isArray(secrets)) return refuse('secrets must be a map of name: sealed value');
  const entries = Object.entries(secrets as Record<string, unknown>);
  if (entries.length > MAX_SECRETS) return refuse(`${entries.length} secrets; the limit is ${MAX_SECRETS}`);
  const parsed: SealedSecret[] = [];
  for (const [name, sealed] of entries) {
    const problem = secretNameProblem(name) ?? sealedValueProblem(name, sealed);
    if (problem) return refuse(problem);
    parsed.push({ name, sealed: sealed as string });
  }
  return { ok: true, file: { keyId, secrets: parsed } };
}

/** secrets.yml with `name` sealed to `key`, keeping the other entries (a file sealed to another key is refused). */
export function withSealedSecret(existing: string | null, key: Pick<SealKey, 'keyId'>, name: string, sealed: string): string {
  const nameProblem = secretNameProblem(name);
  if (nameProblem) throw new SealedSecretProblem(nameProblem);
  const current = existing === null || existing.trim() === '' ? null : parseSecretsFile(existing);
  if (current && !current.ok) throw new SealedSecretProblem(current.reason);
  if (current && current.file.keyId !== key.keyId && current.file.secrets.length > 0)
    throw new SealedSecretProblem(
      `secrets.yml is sealed to key ${current.file.keyId}, the server's key is ${key.keyId}: seal its secrets again or start a new file`,
    );
  const secrets = Object.fromEntries((current?.file.secrets ?? []).map((secret) => [secret.name, secret.sealed]));
  secrets[name] = sealed;
  return dump({ keyId: key.keyId, secrets }, { lineWidth: -1, sortKeys: false });
}
