import { describe, expect, it } from '@jest/globals';
import { secretFiles } from './secret-files.js';

const of = (owner: string | null, secrets: string[]) => ({
  service: 'fn',
  labels: (owner === null ? {} : { 'com.openfaas.cloud.git-cloud': '1', 'com.openfaas.cloud.git-owner': owner }) as Record<string, string>,
  secrets,
});

describe('secret files of a deployment', () => {
  it('strips the owner named by the git-owner label, however many "-" its login has', () => {
    expect(secretFiles(of('acme-labs', ['acme-labs-api-key']))).toEqual([{ deployed: 'acme-labs-api-key', plain: 'api-key' }]);
    expect(secretFiles(of('victim', ['victim-x-db']))).toEqual([{ deployed: 'victim-x-db', plain: 'x-db' }]);
    expect(secretFiles(of('victim-x', ['victim-x-db']))).toEqual([{ deployed: 'victim-x-db', plain: 'db' }]);
  });

  it('refuses a secret outside the owner’s namespace', () => {
    expect(() => secretFiles(of('victim-x', ['victim-db']))).toThrow(
      'function fn of owner victim-x may not use secret victim-db: secrets are named victim-x-<name>',
    );
    expect(() => secretFiles(of('acme', ['acmecorp-key']))).toThrow(/may not use secret acmecorp-key/);
  });

  it('refuses names that are paths', () => {
    expect(() => secretFiles(of('acme', ['acme-..']))).toThrow(/not valid/);
    expect(() => secretFiles(of(null, ['..']))).toThrow(/not valid/);
    expect(() => secretFiles(of(null, ['../admin-token']))).toThrow(/not valid/);
  });

  it('keeps the names of a deployment made without faasline’s labels (the operator’s own)', () =>
    expect(secretFiles(of(null, ['shared-db']))).toEqual([{ deployed: 'shared-db', plain: 'shared-db' }]));
});
