import { describe, expect, it } from '@jest/globals';
import { functionName, functionNameProblem, imageRef, statusDescription } from './naming.js';

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
    expect(imageRef({ ...base, registry: 'registry:5000', image: 'alexellis2/tester-func:0.2' })).toBe('registry:5000/alexellis/go-fns-tester-func:0.2-master-04b8e44');
    expect(imageRef({ ...base, registry: 'docker.io/ofcommunity/', image: 'func' })).toBe('docker.io/ofcommunity/alexellis-go-fns-func:latest-master-04b8e44');
    expect(imageRef({ ...base, owner: 'AlexEllis', registry: 'local', image: 'ghcr.io:443/x/Fn1:Dev', branch: 'feature/x' })).toBe('local/alexellis/go-fns-fn1:dev-feature-x-04b8e44');
  });

  it('keeps commit status descriptions within 140 characters', () => {
    expect(statusDescription('ok')).toBe('ok');
    expect(statusDescription('y'.repeat(141))).toHaveLength(140);
  });
});
