import { describe, expect, it } from '@jest/globals';
import { localReturnTo } from './return-to.js';

describe('the place to return to after signing in', () => {
  it('is a path on this server, / when none is given', () => {
    expect(localReturnTo(undefined)).toBe('/');
    expect(localReturnTo('')).toBe('/');
    expect(localReturnTo('/functions/acme-fn1?tab=logs#end')).toBe('/functions/acme-fn1?tab=logs#end');
  });

  it.each([
    '//evil.example/x',
    '/\\evil.example',
    '\\\\evil.example',
    'https://evil.example/',
    'javascript:alert(1)',
    '/\t/evil.example',
    'functions',
    '/a\nb',
  ])('is never another site: %j is refused', (raw) => expect(localReturnTo(raw)).toBeNull());
});
