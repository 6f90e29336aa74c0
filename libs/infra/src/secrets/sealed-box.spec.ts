import { describe, expect, it } from '@jest/globals';
import {
  keyIdOf,
  openSealed,
  parseSecretsFile,
  seal,
  sealedFingerprint,
  sealKeyFromPrivate,
  sealKeyFromPublic,
  withSealedSecret,
} from './sealed-box.js';

const privateKey = Buffer.alloc(32, 1).toString('base64');

describe('sealed secrets', () => {
  it('opens what was sealed to the public half, and names only the secret when a value does not open', async () => {
    const key = await sealKeyFromPrivate(privateKey);
    const sealed = await seal('hunter2', sealKeyFromPublic(Buffer.from(key.publicKey).toString('base64')));
    expect((await openSealed('db', sealed, key)).toString()).toBe('hunter2');
    expect(key.keyId).toBe(keyIdOf(key.publicKey));
    const other = await sealKeyFromPrivate(Buffer.alloc(32, 2).toString('base64'));
    await expect(openSealed('db', sealed, other)).rejects.toThrow(
      `secret db cannot be opened with this server's key ${other.keyId}: seal it again with faasline seal`,
    );
  });

  it('refuses a private key that is not 32 bytes, naming the variable', async () => {
    await expect(sealKeyFromPrivate('c2hvcnQ=')).rejects.toThrow('SEAL_PRIVATE_KEY must be 32 bytes in base64, not 5 bytes');
  });

  it('fingerprints the key id and the sealed value: two seals of one value differ', async () => {
    const key = await sealKeyFromPrivate(privateKey);
    const [a, b] = [await seal('same', key), await seal('same', key)];
    expect(sealedFingerprint(key.keyId, a)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(sealedFingerprint(key.keyId, a)).not.toBe(sealedFingerprint(key.keyId, b));
  });

  it('writes secrets.yml keeping other entries, and reads it back', async () => {
    const key = await sealKeyFromPrivate(privateKey);
    const text = withSealedSecret(withSealedSecret(null, key, 'one', await seal('1', key)), key, 'two', await seal('2', key));
    const parsed = parseSecretsFile(text, 'secrets.yml', key.keyId);
    expect(parsed.ok && parsed.file.secrets.map((secret) => secret.name)).toEqual(['one', 'two']);
    expect(() => withSealedSecret(text, { keyId: 'ffffffffffffffff' }, 'three', 'x')).toThrow(
      /sealed to key .* the server's key is ffffffffffffffff/,
    );
  });

  it('refuses a secrets.yml that is not what faasline seal writes, with a reason naming the file and the secret', async () => {
    const key = await sealKeyFromPrivate(privateKey);
    const sealed = await seal('v', key);
    const reason = (text: string) => {
      const parsed = parseSecretsFile(text, 'secrets.yml', key.keyId);
      return parsed.ok ? null : parsed.reason;
    };
    expect(reason(`keyId: ${key.keyId}\nsecrets:\n  ok: ${sealed}\n`)).toBeNull();
    expect(reason(`keyId: 0123456789abcdef\nsecrets:\n  ok: ${sealed}\n`)).toBe(
      `secrets.yml: sealed to key 0123456789abcdef, but this server's key is ${key.keyId}: seal the secrets again with faasline seal`,
    );
    expect(reason('keyId: [\n')).toMatch(/^secrets.yml: not valid YAML/);
    expect(reason('- a\n')).toBe('secrets.yml: must be a map with keyId and secrets');
    expect(reason(`keyId: ${key.keyId}\nvalues: {}\n`)).toBe('secrets.yml: unknown key "values": only keyId and secrets');
    expect(reason(`keyId: nope\n`)).toBe('secrets.yml: keyId must be the 16 hex characters faasline seal writes');
    expect(reason(`keyId: ${key.keyId}\nsecrets:\n  Bad_Name: ${sealed}\n`)).toMatch(/^secrets.yml: secret name "Bad_Name" must be/);
    expect(reason(`keyId: ${key.keyId}\nsecrets:\n  db: plain-text-value\n`)).toBe(
      'secrets.yml: secret db is not a sealed value in base64 (faasline seal writes it)',
    );
    expect(reason(`keyId: ${key.keyId}\nsecrets:\n  db: ${'A'.repeat(100_000)}\n`)).toBe('secrets.yml: secret db is over 64 KiB');
    const many = Array.from({ length: 51 }, (_, i) => `  s${i}: ${sealed}`).join('\n');
    expect(reason(`keyId: ${key.keyId}\nsecrets:\n${many}\n`)).toBe('secrets.yml: 51 secrets; the limit is 50');
    // The reasons never carry a value.
    expect(reason(`keyId: ${key.keyId}\nsecrets:\n  db: plain-text-value\n`)).not.toContain('plain-text-value');
  });
});
