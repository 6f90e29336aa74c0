import { describe, expect, it } from '@jest/globals';
import { MAX_REASON } from '../naming.js';
import { repositoryPath, type StackFile, type StackFunction } from './stack-file.js';
import { planFunction, stackFileProblem, templateSourceProblem, type StackPolicy } from './stack-file.rules.js';

const policy: StackPolicy = {
  owner: 'AlexEllis',
  repo: 'go-fns',
  branch: 'master',
  sha: '27c584a2bcb7843f79249dfb058d6daeb164d69f',
  registry: 'registry:5000',
  maxFunctions: 2,
  enableDockerfileLang: false,
  gitAllowedHosts: ['github.com', 'git.local:8443'],
  maxFunctionMemory: '1Gi',
  maxFunctionCpu: '2',
};

const fn = (overrides: Partial<StackFunction> = {}): StackFunction => ({
  key: 'fn1',
  lang: 'node20',
  handler: './fn1',
  image: 'alexellis2/fn1:0.4',
  fprocess: null,
  environment: {},
  environmentFiles: [],
  secrets: [],
  labels: {},
  annotations: {},
  limits: {},
  requests: {},
  buildArgs: {},
  buildOptions: [],
  skipBuild: false,
  readonlyRootFilesystem: null,
  constraints: [],
  namespace: null,
  platforms: null,
  ...overrides,
});

const stack = (functions: StackFunction[], overrides: Partial<StackFile> = {}): StackFile => ({
  version: '1.0',
  provider: { name: 'openfaas', gateway: null },
  functions,
  configuration: { templates: [], copy: [] },
  ...overrides,
});

const languages = new Set(['node20']);
const reason = (verdict: ReturnType<typeof planFunction>) => (verdict.ok ? null : verdict.rejection.reason);

describe('stack file rules', () => {
  it('normalises repository paths and refuses escapes', () => {
    expect(repositoryPath('./fn1/')).toBe('fn1');
    expect(repositoryPath('a/./b/../c')).toBe('a/c');
    expect(repositoryPath('.')).toBe('.');
    expect(repositoryPath('../x')).toBeNull();
    expect(repositoryPath('a/../../x')).toBeNull();
    expect(repositoryPath('/etc')).toBeNull();
    expect(repositoryPath('C:/x')).toBeNull();
  });

  it('refuses whole files: provider, version, no functions, too many', () => {
    expect(stackFileProblem(stack([fn()]), 'stack.yml', policy)).toBeNull();
    expect(stackFileProblem(stack([fn()], { provider: { name: 'faas', gateway: null } }), 'stack.yml', policy)).toBeNull();
    expect(stackFileProblem(stack([fn()], { provider: { name: '', gateway: null } }), 'stack.yml', policy)).toMatch(
      /provider\.name must be "openfaas"/,
    );
    expect(stackFileProblem(stack([fn()], { version: '2.0' }), 'stack.yml', policy)).toMatch(/version must be "1\.0"/);
    expect(stackFileProblem(stack([]), 'stack.yml', policy)).toBe('stack.yml declares no functions');
    expect(stackFileProblem(stack([fn(), fn(), fn()]), 'stack.yml', policy)).toMatch(/3 functions; the limit is 2/);
  });

  it('pulls templates only over http(s) from allowed hosts', () => {
    expect(templateSourceProblem('https://github.com/openfaas/templates#1.0', policy.gitAllowedHosts)).toBeNull();
    expect(templateSourceProblem('https://git.local:8443/t.git', policy.gitAllowedHosts)).toBeNull();
    expect(templateSourceProblem('https://git.local/t.git', policy.gitAllowedHosts)).toMatch(/not in GIT_ALLOWED_HOSTS/);
    expect(templateSourceProblem('http://127.0.0.1:39001/t.git', ['127.0.0.1:*'])).toBeNull();
    expect(templateSourceProblem('http://127.0.0.2:39001/t.git', ['127.0.0.1:*'])).toMatch(/not in GIT_ALLOWED_HOSTS/);
    expect(templateSourceProblem('file:///etc', policy.gitAllowedHosts)).toMatch(/must be an http\(s\) git URL/);
    expect(templateSourceProblem('git@github.com:x/y', policy.gitAllowedHosts)).toMatch(/not a URL/);
    expect(templateSourceProblem('https://github.com/x/y#--upload-pack=touch /tmp/p', policy.gitAllowedHosts)).toMatch(
      /is not a branch, tag or commit name/,
    );
  });

  it('names a branch preview <owner>-<fn>-<branch slug>, its image tagged with the branch, its secrets the owner’s', () => {
    const verdict = planFunction(fn({ secrets: ['db'] }), { ...policy, branch: 'feature/x', preview: true }, languages);
    expect(verdict).toMatchObject({
      ok: true,
      plan: {
        name: 'alexellis-fn1-feature-x',
        image: 'registry:5000/alexellis/go-fns-fn1:0.4-feature-x-27c584a',
        secrets: ['alexellis-db'],
      },
    });
  });

  it('rejects a preview whose <owner>-<fn> leaves no room for the branch', () =>
    expect(reason(planFunction(fn({ key: 'f'.repeat(50) }), { ...policy, branch: 'feature/x', preview: true }, languages))).toMatch(
      /the limit is 63/,
    ));

  it('resolves a function the way OpenFaaS Cloud named and deployed it', () => {
    const verdict = planFunction(fn({ secrets: ['db'], annotations: { topic: 't', 'com.openfaas.profile': 'x' } }), policy, languages);
    expect(verdict).toMatchObject({
      ok: true,
      plan: {
        name: 'alexellis-fn1',
        image: 'registry:5000/alexellis/go-fns-fn1:0.4-master-27c584a',
        handler: 'fn1',
        secrets: ['alexellis-db'],
        annotations: { topic: 't' },
        readOnlyRootFilesystem: true,
      },
    });
  });

  it('lists a refused function under its service name, or its key percent-encoded when it makes none', () => {
    const rejection = (key: string) => {
      const verdict = planFunction(fn({ key, lang: 'cobol' }), policy, languages);
      return verdict.ok ? null : verdict.rejection;
    };
    expect(rejection('fn1')).toMatchObject({ function: 'fn1', name: 'alexellis-fn1' });
    expect(rejection('My Fn/ü')).toMatchObject({ function: 'My Fn/ü', name: 'alexellis-My%20Fn%2F%C3%BC' });
    expect(rejection('Bad_Name')).toMatchObject({ name: 'alexellis-Bad_Name', reason: expect.stringMatching(/^Bad_Name: function name/) });
  });

  it('keeps the whole reason of a refused function: its commit status cuts it, the read model does not', () => {
    const many = new Set(Array.from({ length: 30 }, (_, i) => `language-${i}`));
    const verdict = planFunction(fn({ lang: 'cobol' }), policy, many);
    expect(verdict.ok ? '' : verdict.rejection.reason).toMatch(/language-9\)$/);
  });

  it('fails one function with a reason a user can act on', () => {
    expect(reason(planFunction(fn({ lang: 'rust' }), policy, languages))).toBe(
      `fn1: unknown language "rust" (available: ${[...languages].sort().join(', ')})`,
    );
    expect(reason(planFunction(fn({ lang: 'cobol' }), { ...policy, enableDockerfileLang: true }, new Set(['python3', 'node20'])))).toBe(
      'fn1: unknown language "cobol" (available: dockerfile, node20, python3)',
    );
    expect(reason(planFunction(fn({ lang: 'Dockerfile' }), policy, languages))).toMatch(/ENABLE_DOCKERFILE_LANG/);
    expect(planFunction(fn({ lang: 'Dockerfile' }), { ...policy, enableDockerfileLang: true }, languages).ok).toBe(true);
    expect(reason(planFunction(fn({ handler: '../up' }), policy, languages))).toMatch(/must be a folder inside the repository/);
    // A status never shows an absolute path, even one the stack file wrote (see withoutServerPaths).
    expect(reason(planFunction(fn({ environmentFiles: ['/etc/env'] }), policy, languages))).toMatch(
      /environment_file "…\/env" points outside/,
    );
    expect(reason(planFunction(fn({ key: 'Fn' }), policy, languages))).toMatch(/lower-case letters/);
    expect(reason(planFunction(fn({ image: 'bad image' }), policy, languages))).toMatch(/not a valid image name/);
    expect(reason(planFunction(fn({ limits: { memory: '1 GB' } }), policy, languages))).toMatch(/is not a quantity/);
    expect(reason(planFunction(fn({ buildArgs: { 'BAD ARG': 'x' } }), policy, languages))).toMatch(/build_args name/);
  });

  describe('given the operator ceilings MAX_FUNCTION_MEMORY 1Gi and MAX_FUNCTION_CPU 2', () => {
    it.each([
      [{ limits: { memory: '16Gi', cpu: '64' } }, 'fn1: limits.memory 16Gi is over MAX_FUNCTION_MEMORY 1Gi'],
      [{ limits: { memory: '1025Mi' } }, 'fn1: limits.memory 1025Mi is over MAX_FUNCTION_MEMORY 1Gi'],
      [{ limits: { memory: '1.1G' } }, 'fn1: limits.memory 1.1G is over MAX_FUNCTION_MEMORY 1Gi'],
      [{ limits: { memory: '1Ei' } }, 'fn1: limits.memory 1Ei is over MAX_FUNCTION_MEMORY 1Gi'],
      [{ limits: { cpu: '64' } }, 'fn1: limits.cpu 64 is over MAX_FUNCTION_CPU 2'],
      [{ limits: { cpu: '2001m' } }, 'fn1: limits.cpu 2001m is over MAX_FUNCTION_CPU 2'],
      [{ requests: { memory: '2Gi' } }, 'fn1: requests.memory 2Gi is over MAX_FUNCTION_MEMORY 1Gi'],
      [{ requests: { cpu: '3' } }, 'fn1: requests.cpu 3 is over MAX_FUNCTION_CPU 2'],
      [{ limits: { memory: '1 GB' } }, 'fn1: limits.memory "1 GB" is not a quantity like 128Mi or 1Gi'],
      // Millibytes and gibi-cores parse as Kubernetes quantities but mean nothing a function could run with.
      [{ limits: { memory: '100m' } }, 'fn1: limits.memory "100m" is not a quantity like 128Mi or 1Gi'],
      [{ limits: { memory: '0' } }, 'fn1: limits.memory "0" is not a quantity like 128Mi or 1Gi'],
      [{ limits: { cpu: '1Gi' } }, 'fn1: limits.cpu "1Gi" is not a quantity like 100m or 1'],
      [{ limits: { cpu: '1e3' } }, 'fn1: limits.cpu "1e3" is not a quantity like 100m or 1'],
      [{ requests: { cpu: '-1' } }, 'fn1: requests.cpu "-1" is not a quantity like 100m or 1'],
    ])('when a function asks for %j then it is rejected: %s', (resources, expected) => {
      expect(reason(planFunction(fn(resources), policy, languages))).toBe(expected);
    });

    it.each([
      { limits: { memory: '1Gi', cpu: '2' } },
      { limits: { memory: '1024Mi', cpu: '2000m' } },
      { limits: { memory: '128Mi', cpu: '100m' }, requests: { memory: '64Mi', cpu: '50m' } },
      { limits: { memory: '1073741824', cpu: '1.5' } },
      {},
    ])('when a function asks for %j then it is planned with exactly that', (resources) => {
      const verdict = planFunction(fn(resources), policy, languages);
      expect(verdict).toMatchObject({ ok: true, plan: { limits: resources.limits ?? {}, requests: resources.requests ?? {} } });
    });

    it('when the operator raises the ceilings then the same function passes', () => {
      const big = fn({ limits: { memory: '16Gi', cpu: '64' } });
      expect(planFunction(big, policy, languages).ok).toBe(false);
      expect(planFunction(big, { ...policy, maxFunctionMemory: '16Gi', maxFunctionCpu: '64' }, languages).ok).toBe(true);
    });

    it('when a ceiling is unreadable then nothing with that resource passes', () => {
      expect(reason(planFunction(fn({ limits: { memory: '1Mi' } }), { ...policy, maxFunctionMemory: 'lots' }, languages))).toMatch(
        /over MAX_FUNCTION_MEMORY lots/,
      );
    });
  });

  it('keeps every rejection bounded however long the stack file makes it (its commit status cuts it to 140)', () => {
    const long = planFunction(fn({ key: 'x'.repeat(2000), lang: 'y'.repeat(300) }), policy, languages);
    expect(reason(long)!.length).toBeLessThanOrEqual(MAX_REASON);
  });
});
