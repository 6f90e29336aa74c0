import { describe, expect, it } from '@jest/globals';
import { functionLines } from './stack-lines.js';

describe('the lines of functions in a stack file', () => {
  it('finds each function key under functions:, not fields of the same name deeper down', () => {
    const text = [
      'version: 1.0',
      'provider:',
      '  name: openfaas',
      'functions:',
      '  # the api',
      '  api:',
      '    lang: node20',
      '    handler: ./api',
      '    labels:',
      '      web: "1"',
      '  "web":',
      '    lang: dockerfile',
      'configuration:',
      '  web: x',
    ].join('\n');
    expect(functionLines(text, ['api', 'web'])).toEqual({ api: 6, web: 11 });
  });

  it('leaves out what it cannot find', () => {
    expect(functionLines('functions: {api: {lang: node20}}\n', ['api'])).toEqual({});
    expect(functionLines('provider:\n  name: openfaas\n', ['api'])).toEqual({});
  });
});
