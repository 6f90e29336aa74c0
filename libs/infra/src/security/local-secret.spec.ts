import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constantTimeEqual, loadOrCreateSecret } from './local-secret.js';

describe('local secrets', () => {
  it('generates a secret once, readable only by its owner, and reuses it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'faasline-secret-'));
    const first = await loadOrCreateSecret(null, dataDir, 'github-webhook-secret');
    expect(first).toMatchObject({ generated: true, path: join(dataDir, 'secrets', 'github-webhook-secret') });
    expect(first.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(first.path!).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateSecret(null, dataDir, 'github-webhook-secret')).toEqual({ ...first, generated: false });
    expect(await loadOrCreateSecret('from-env', dataDir, 'github-webhook-secret')).toEqual({
      value: 'from-env',
      path: null,
      generated: false,
    });
  });

  it('compares secrets of any length without throwing', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });
});
