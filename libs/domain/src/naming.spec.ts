import { describe, expect, it } from '@jest/globals';
import {
  functionName,
  functionNameProblem,
  imageRef,
  pullImage,
  listedFunctionName,
  listedFunctionNameProblem,
  statusDescription,
  withoutServerPaths,
} from './naming.js';

describe('OpenFaaS Cloud names', () => {
  it('lower-cases the owner, never rejects it', () => {
    expect(functionName('AlexEllis', 'fn1')).toBe('alexellis-fn1');
    expect(functionNameProblem(functionName('AlexEllis', 'fn1'))).toBeNull();
  });

  it('rejects names that are not DNS-1123 labels or longer than 63', () => {
    expect(functionNameProblem('alexellis-My_Fn')).toMatch(/lower-case letters, digits and "-"/);
    expect(functionNameProblem(`a-${'b'.repeat(62)}`)).toMatch(/is 64 characters; the limit is 63/);
    expect(functionNameProblem(`a-${'b'.repeat(61)}`)).toBeNull();
    expect(functionNameProblem('alexellis-fn-')).not.toBeNull();
  });

  it('formats image references like formatImageShaTag', () => {
    const base = { owner: 'alexellis', repo: 'go-fns', branch: 'master', sha: '04b8e44a1234567890' };
    expect(imageRef({ ...base, registry: 'registry:5000', image: 'alexellis2/tester-func:0.2' })).toBe(
      'registry:5000/alexellis/go-fns-tester-func:0.2-master-04b8e44',
    );
    expect(imageRef({ ...base, registry: 'docker.io/ofcommunity/', image: 'func' })).toBe(
      'docker.io/ofcommunity/alexellis-go-fns-func:latest-master-04b8e44',
    );
    expect(imageRef({ ...base, owner: 'AlexEllis', registry: 'local', image: 'ghcr.io:443/x/Fn1:Dev', branch: 'feature/x' })).toBe(
      'local/alexellis/go-fns-fn1:dev-feature-x-04b8e44',
    );
  });

  it('keeps commit status descriptions within 140 characters', () => {
    expect(statusDescription('ok')).toBe('ok');
    expect(statusDescription('y'.repeat(141))).toHaveLength(140);
  });

  describe('failure reasons show no server paths', () => {
    it('shortens absolute paths to their last segment', () => {
      expect(withoutServerPaths("ENOENT: no such file or directory, open '/root/.faasline/data/images/ab12/context/package.json'")).toBe(
        "ENOENT: no such file or directory, open '…/package.json'",
      );
      expect(withoutServerPaths('spawn /usr/lib/node_modules/faasline/dist/x.js failed in /tmp/faasline-build-x1/work')).toBe(
        'spawn …/x.js failed in …/work',
      );
      expect(withoutServerPaths('cannot write /var/lib/faasline/ (read-only)')).toBe('cannot write …/ (read-only)');
    });

    it('leaves URLs, owner/repo names, image references and relative paths alone', () => {
      const kept = [
        'deployed: http://gateway.example/function/alexellis-fn1',
        'function name victim-x-api is already deployed from victim/fns: rename the function in stack.yml',
        'image registry:5000/alexellis/fns-fn1:0.1-master-abcdef1 was not built here',
        'handler ./fn1/handler.js is missing; see ../README',
        'secret alexellis-api-key is missing: create it with faas-cli secret create alexellis-api-key',
        'git@github.com:owner/repo.git is not allowed',
      ];
      for (const text of kept) expect(withoutServerPaths(text)).toBe(text);
    });

    it('are scrubbed in every status description', () =>
      expect(statusDescription('build failed: npm install exited 1 in /srv/faasline/data/builds/b1/context')).toBe(
        'build failed: npm install exited 1 in …/context',
      ));
  });
});

describe('the image the gateway pulls', () => {
  const image = 'registry.example.com:5000/alexellis/fns-fn1:0.1-master-27c584a';
  it('names REGISTRY_PULL in place of REGISTRY, for an own or a shared account', () => {
    expect(pullImage(image, 'registry.example.com:5000', 'registry.svc:5000')).toBe(
      'registry.svc:5000/alexellis/fns-fn1:0.1-master-27c584a',
    );
    expect(pullImage('docker.io/ofc/alexellis-fns-fn1:latest-master-27c584a', 'docker.io/ofc/', 'mirror.svc/ofc')).toBe(
      'mirror.svc/ofc/alexellis-fns-fn1:latest-master-27c584a',
    );
  });

  it('keeps the image as built without REGISTRY_PULL, or for an image of another registry', () => {
    expect(pullImage(image, 'registry.example.com:5000', null)).toBe(image);
    expect(pullImage(image, 'registry.example.com:500', 'registry.svc:5000')).toBe(image);
  });
});

describe('listed function names', () => {
  it('is the service name when the key makes one, else the key percent-encoded (never a valid service name)', () => {
    expect(listedFunctionName('AlexEllis', 'fn1')).toBe('alexellis-fn1');
    expect(listedFunctionName('alexellis', 'My_Fn.v2')).toBe('alexellis-My_Fn.v2');
    expect(listedFunctionName('alexellis', 'a b/c?é')).toBe('alexellis-a%20b%2Fc%3F%C3%A9');
    expect(functionNameProblem(listedFunctionName('alexellis', 'a b'))).not.toBeNull();
  });
});

describe('names the read API looks up', () => {
  it('takes service names and listed names of stack keys that make none, and nothing else', () => {
    expect(listedFunctionNameProblem('alexellis-fn1')).toBeNull();
    expect(listedFunctionNameProblem(listedFunctionName('alexellis', 'My Fn'))).toBeNull();
    expect(listedFunctionNameProblem('alexellis-Bad_Name')).toBeNull();
    expect(listedFunctionNameProblem('-bad-')).toMatch(/must be lower-case/);
    expect(listedFunctionNameProblem('Not_A_Name')).toMatch(/must be lower-case/);
    expect(listedFunctionNameProblem('alexellis-a b')).toMatch(/must be lower-case/);
  });
});
