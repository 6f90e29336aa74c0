import { describe, expect, it } from '@jest/globals';
import { BuildFailure } from './builder.port.js';
import { checkNpmDependencies, isGitSpec, sanitizeNpmrc } from './npm-config.policy.js';

describe('a handler’s .npmrc', () => {
  it('keeps registries, their credentials and certificates', () => {
    const text = [
      'registry=https://registry.example/',
      '@acme:registry = https://npm.acme.example/',
      '//npm.acme.example/:_authToken=abc123',
      '//registry.example/:always-auth=true',
      'strict-ssl=false',
      'legacy-peer-deps=true',
    ].join('\n');
    const { text: kept, ignored } = sanitizeNpmrc(text);
    expect(ignored).toEqual([]);
    expect(kept).toBe(`${text.replace(' = ', '=')}\n`);
  });

  it('drops every setting that names a program or a path, and anything it does not know', () => {
    const { text, ignored } = sanitizeNpmrc(
      [
        'git=./script.sh',
        'script-shell=./script.sh',
        'shell=/bin/bash',
        'node-options=--require ./x.js',
        'prefix=/',
        'userconfig=./u',
        'globalconfig=./g',
        'cache=/tmp/c',
        'init-module=./i.js',
        'onload-script=./o.js',
        'cafile=/etc/shadow',
        'editor=vim',
        'browser=x',
        'save-exact=true',
      ].join('\n'),
    );
    expect(text).toBe('');
    expect(ignored).toEqual([
      'git',
      'script-shell',
      'shell',
      'node-options',
      'prefix',
      'userconfig',
      'globalconfig',
      'cache',
      'init-module',
      'onload-script',
      'cafile',
      'editor',
      'browser',
      'save-exact',
    ]);
  });

  it('drops values that would expand the build’s environment, registries that are not http(s), and sections', () => {
    const { text, ignored } = sanitizeNpmrc(
      '//evil.example/:_authToken=${NPM_TOKEN}\nregistry=file:///etc\n[x]\nregistry=https://ok.example/\n',
    );
    expect(text).toBe('');
    expect(ignored).toEqual(['//evil.example/:_authToken', 'registry', '[x]', 'registry']);
  });
});

describe('a handler’s dependencies', () => {
  it('recognises git dependencies in every form npm fetches with git', () => {
    for (const spec of [
      'git+file:///tmp/repo',
      'git://host/x.git',
      'github:user/repo',
      'user/repo#main',
      'https://github.com/user/repo',
      'gitlab:a/b',
    ])
      expect([spec, isGitSpec(spec)]).toEqual([spec, true]);
    for (const spec of ['^1.2.3', 'latest', 'npm:@scope/x@1', 'file:./lib', 'https://registry.example/x/-/x-1.0.0.tgz'])
      expect([spec, isGitSpec(spec)]).toEqual([spec, false]);
  });

  it('refuses git dependencies and local ones outside the context', () => {
    expect(() => checkNpmDependencies({ dependencies: { x: 'git+file:///tmp/r' } }, '/c/function', '/c')).toThrow(
      new BuildFailure(
        'function/package.json: git dependency x (git+file:///tmp/r) refused: builds install registry and local packages only',
      ),
    );
    expect(() => checkNpmDependencies({ devDependencies: { x: 'github:a/b' } }, '/c/function', '/c')).toThrow(BuildFailure);
    expect(() => checkNpmDependencies({ dependencies: { x: 'file:../../etc' } }, '/c/function', '/c')).toThrow(
      /outside the handler's folder/,
    );
    expect(() => checkNpmDependencies({ workspaces: ['packages/*', '../../srv'] }, '/c/function', '/c')).toThrow(
      /workspace \.\.\/\.\.\/srv is outside the handler's folder/,
    );
    expect(() =>
      checkNpmDependencies({ dependencies: { x: 'file:./lib', y: '^1.0.0' }, workspaces: { packages: ['lib'] } }, '/c/function', '/c'),
    ).not.toThrow();
  });
});
