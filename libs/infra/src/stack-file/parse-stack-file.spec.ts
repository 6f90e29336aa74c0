import { describe, expect, it } from '@jest/globals';
import { parseEnvironmentFile, parseStackFile, substituteVariables } from './parse-stack-file.js';

const parsed = (text: string, variables: Record<string, string> = {}) => {
  const result = parseStackFile(text, 'stack.yml', variables);
  if (!result.ok) throw new Error(result.reason);
  return result.stack;
};

describe('stack file parser (faas-cli semantics)', () => {
  it('substitutes ${VAR}, ${VAR:-default} and ${VAR-default} before parsing', () => {
    expect(substituteVariables('${A} ${B:-b} ${C-c} ${EMPTY:-d} ${EMPTY-e} $PLAIN', { A: 'a', EMPTY: '' })).toBe('a b c d  $PLAIN');
  });

  it('reads every function field faas-cli knows, with map values as written', () => {
    const stack = parsed(`
version: 1.0
provider: {name: openfaas, gateway: http://gw:8080}
functions:
  fn1:
    lang: node20
    handler: ./fn1
    image: \${USER:-me}/fn1
    fprocess: node index.js
    environment: {port: 6379, debug: true, mode: on, nothing: ~}
    environment_file: [a.yml]
    secrets: [s1]
    labels: {com.openfaas.scale.min: 2}
    annotations: {topic: t}
    limits: {memory: 128Mi}
    requests: {cpu: 100m}
    build_args: {GO111MODULE: on}
    build_options: [dev]
    skip_build: no
    readonly_root_filesystem: false
    constraints: [node=a]
    namespace: fns
    platforms: linux/amd64
configuration:
  templates: [{name: golang-middleware, source: https://github.com/openfaas/golang-http-template}]
  copy: [./common]
`);
    expect(stack.provider).toEqual({ name: 'openfaas', gateway: 'http://gw:8080' });
    expect(stack.version).toBe('1.0');
    expect(stack.functions[0]).toEqual({
      key: 'fn1',
      lang: 'node20',
      handler: './fn1',
      image: 'me/fn1',
      fprocess: 'node index.js',
      environment: { port: '6379', debug: 'true', mode: 'on', nothing: '' },
      environmentFiles: ['a.yml'],
      secrets: ['s1'],
      labels: { 'com.openfaas.scale.min': '2' },
      annotations: { topic: 't' },
      limits: { memory: '128Mi' },
      requests: { cpu: '100m' },
      buildArgs: { GO111MODULE: 'on' },
      buildOptions: ['dev'],
      skipBuild: false,
      readonlyRootFilesystem: false,
      constraints: ['node=a'],
      namespace: 'fns',
      platforms: 'linux/amd64',
    });
    expect(stack.configuration).toEqual({
      templates: [{ name: 'golang-middleware', source: 'https://github.com/openfaas/golang-http-template' }],
      copy: ['./common'],
    });
  });

  it('refuses duplicate keys, custom tags, several documents and wrong shapes with the place', () => {
    expect(parseStackFile('functions:\n  a: {}\n  a: {}\n', 'stack.yml')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/line 3: duplicated mapping key/),
    });
    expect(parseStackFile('functions: !!js/function x', 'stack.yml')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unknown scalar tag/),
    });
    expect(parseStackFile('a: 1\n---\nb: 2\n', 'stack.yml')).toMatchObject({ ok: false, reason: expect.stringMatching(/single document/) });
    expect(parseStackFile('- a\n', 'stack.yml')).toEqual({
      ok: false,
      reason: 'stack.yml: the file must be a mapping with provider and functions',
    });
    expect(parseStackFile('functions:\n  f:\n    skip_build: sometimes\n', 'stack.yml')).toEqual({
      ok: false,
      reason: 'stack.yml: functions.f.skip_build must be true or false, not "sometimes"',
    });
    expect(parseStackFile('functions:\n  f:\n    secrets: {a: b}\n', 'stack.yml')).toEqual({
      ok: false,
      reason: 'stack.yml: functions.f.secrets must be a list',
    });
  });

  it('reads an environment file', () => {
    expect(parseEnvironmentFile('environment:\n  a: 1\n', 'env.yml')).toEqual({ ok: true, environment: { a: '1' } });
    expect(parseEnvironmentFile('environment: [a]\n', 'env.yml')).toEqual({ ok: false, reason: 'env.yml: environment must be a mapping' });
  });
});
