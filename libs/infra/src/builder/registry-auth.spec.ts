import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { RegistryAuth, registryHost } from './registry-auth.js';

const base64 = (text: string) => Buffer.from(text).toString('base64');
const parse = (document: unknown) => RegistryAuth.parse(JSON.stringify(document), '/secrets/config.json');

describe('registry credentials from a Docker config.json (REGISTRY_AUTH_FILE)', () => {
  it('spells a registry one way: no scheme, no path, lower case, Docker Hub as docker.io', () => {
    expect(registryHost('https://index.docker.io/v1/')).toBe('docker.io');
    expect(registryHost('registry-1.docker.io')).toBe('docker.io');
    expect(registryHost('index.docker.io')).toBe('docker.io');
    expect(registryHost('docker.io')).toBe('docker.io');
    expect(registryHost('http://127.0.0.1:5000/v2/')).toBe('127.0.0.1:5000');
    expect(registryHost('Registry.Example.com:443')).toBe('registry.example.com:443');
  });

  it('reads docker login’s `auth` (base64 user:password) and answers BuildKit’s host for Docker Hub’s key', () => {
    const auth = parse({ auths: { 'https://index.docker.io/v1/': { auth: base64('alex:pa:ss') } } });
    expect(auth.credentials('registry-1.docker.io')).toEqual({ username: 'alex', secret: 'pa:ss' });
  });

  it('reads a Kubernetes dockerconfigjson Secret’s `username` and `password` per registry host', () => {
    const auth = parse({
      auths: {
        'registry.example.com:5000': { username: 'ci', password: 's3cret', email: 'ci@example.com' },
        'https://ghcr.io': { auth: base64('bot:token') },
      },
    });
    expect(auth.credentials('registry.example.com:5000')).toEqual({ username: 'ci', secret: 's3cret' });
    expect(auth.credentials('ghcr.io')).toEqual({ username: 'bot', secret: 'token' });
    expect(auth.credentials('registry.example.com')).toEqual({ username: '', secret: '' });
  });

  it('sends an identity token as the secret with no user, as docker’s credential provider does', () => {
    expect(parse({ auths: { 'acr.example.io': { identitytoken: 'tok' } } }).credentials('acr.example.io')).toEqual({
      username: '',
      secret: 'tok',
    });
  });

  it('reads the legacy dockercfg form (the auths map itself)', () => {
    expect(parse({ 'quay.io': { auth: base64('q:w') } }).credentials('quay.io')).toEqual({ username: 'q', secret: 'w' });
  });

  it('refuses a malformed entry naming the file and the registry, never the secret', () => {
    expect(() => parse({ auths: { 'r.example': { auth: base64('no-colon-secret') } } })).toThrow(
      /^REGISTRY_AUTH_FILE: \/secrets\/config\.json: auths\."r\.example" needs "auth"/,
    );
    expect(() => parse({ auths: { 'r.example': { auth: base64('no-colon-secret') } } })).not.toThrow(/no-colon-secret/);
    expect(() => parse({ auths: { 'r.example': { username: 'only-user' } } })).toThrow(/auths\."r\.example"/);
    expect(() => parse({ credsStore: 'desktop' })).toThrow(/has no "auths" \(credential helpers are not supported/);
    expect(() => RegistryAuth.parse('{"auths": {"r": {"auth": "c2VjcmV0"', '/x.json')).toThrow(
      /^REGISTRY_AUTH_FILE: \/x\.json is not JSON/,
    );
    expect(() => RegistryAuth.parse('{"auths": {"r": {"auth": "c2VjcmV0"', '/x.json')).not.toThrow(/c2VjcmV0/);
  });

  it('says clearly when the file is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'registry-auth-'));
    try {
      expect(() => RegistryAuth.fromFile(join(dir, 'config.json'))).toThrow(
        `REGISTRY_AUTH_FILE: ${join(dir, 'config.json')} does not exist; it should be a Docker config.json with "auths"`,
      );
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'r.example': { auth: base64('u:p') } } }));
      expect(RegistryAuth.fromFile(join(dir, 'config.json')).credentials('r.example')).toEqual({ username: 'u', secret: 'p' });
      expect(() => RegistryAuth.fromFile(dir)).toThrow(/is a folder/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints and serialises its hosts only', () => {
    const auth = parse({ auths: { 'r.example': { auth: base64('user:hunter2') } } });
    expect(inspect(auth)).toBe('RegistryAuth { hosts: r.example }');
    expect(JSON.stringify(auth)).toBe('{"hosts":["r.example"]}');
    expect(`${inspect(auth)}${JSON.stringify(auth)}`).not.toMatch(/hunter2|user/);
  });
});
