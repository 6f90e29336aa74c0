import { describe, expect, it } from '@jest/globals';
import { declaredFunctions, newStack, withEntry, type StackEntry } from './stack-entry.js';

const entry: StackEntry = { key: 'b', lang: 'node20', handler: './b', image: 'b:latest' };

describe('adding a function to a stack file', () => {
  it('writes a new stack file faasline reads', () => {
    expect(declaredFunctions(newStack(entry))).toEqual(['b']);
  });

  it('appends to the functions block, indented like it, before the next top-level key and its comments', () => {
    const text = 'provider:\n  name: openfaas\nfunctions:\n   a:\n      lang: node\n\n# later\nconfiguration:\n  templates: []\n';
    expect(withEntry(text, entry)).toBe(
      'provider:\n  name: openfaas\nfunctions:\n   a:\n      lang: node\n   b:\n      lang: node20\n      handler: ./b\n      image: b:latest\n\n# later\nconfiguration:\n  templates: []\n',
    );
  });

  it('adds a functions block to a file without one, and fills an empty one', () => {
    expect(withEntry('provider:\n  name: openfaas\n', entry)).toBe(
      'provider:\n  name: openfaas\nfunctions:\n  b:\n    lang: node20\n    handler: ./b\n    image: b:latest\n',
    );
    expect(declaredFunctions(withEntry('provider:\n  name: openfaas\nfunctions:\n', entry)!)).toEqual(['b']);
  });

  it('gives up on a layout it cannot follow rather than rewriting the file', () => {
    expect(withEntry('provider:\n  name: openfaas\nfunctions: { a: { lang: node } }\n', entry)).toBeNull();
  });

  it('tells an unreadable stack file', () => {
    expect(declaredFunctions('functions: [a, b]\n')).toEqual({ problem: 'functions: is not a mapping' });
    expect(declaredFunctions('functions:\n  a: [\n')).toMatchObject({ problem: expect.any(String) });
  });
});
