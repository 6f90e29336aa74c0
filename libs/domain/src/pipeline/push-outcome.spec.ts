import { describe, expect, it } from '@jest/globals';
import { failedFunctions, nothingToBuild } from './push-outcome.js';

const failure = (fn: string, why: string) => ({ function: fn, why: `${fn}: ${why}` });

describe('push outcome in words', () => {
  it('names each failed function and why, whole when it fits a commit status', () =>
    expect(
      failedFunctions([failure('fn2', 'unknown language "cobol" (available: node20)'), failure('fn3', 'build failed: E404')], 3),
    ).toEqual({
      description: '2 of 3 function(s) failed: fn2: unknown language "cobol" (available: node20); fn3: build failed: E404',
      detail: null,
    }));

  it('cuts each reason to an equal share of 140 characters, a short one leaving its room to the others, and keeps the whole text', () => {
    const languages = 'node, node18, node20, node22, python, python3, python3-http';
    const failures = [
      failure('fn2', `unknown language "cobol" (available: ${languages})`),
      failure('fn3', `build failed: ${'x'.repeat(200)}`),
    ];
    const { description, detail } = failedFunctions(failures, 3);
    expect(description).toHaveLength(140);
    expect(description).toMatch(
      /^2 of 3 function\(s\) failed: fn2: unknown language "cobol" \(available: node, .*…; fn3: build failed: x+…$/,
    );
    expect(detail).toBe(
      `2 of 3 function(s) failed: fn2: unknown language "cobol" (available: ${languages}); fn3: build failed: ${'x'.repeat(200)}`,
    );
    const short = failedFunctions([failure('a', 'bad'), failure('fn3', `build failed: ${'y'.repeat(300)}`)], 2).description;
    expect(short).toMatch(/^2 of 2 function\(s\) failed: a: bad; fn3: build failed: y+…$/);
    expect(short).toHaveLength(140);
  });

  it('names the functions alone when there are too many for a reason each', () => {
    const failures = Array.from({ length: 12 }, (_, i) => failure(`function-${i}`, 'build failed: npm error 404 Not Found'));
    const { description, detail } = failedFunctions(failures, 12);
    expect(description.length).toBeLessThanOrEqual(140);
    expect(description).toMatch(/^12 of 12 function\(s\) failed: function-0, function-1, /);
    expect(detail).toContain('function-11: build failed: npm error 404 Not Found');
  });

  it('says why nothing could be built, and never shows a server path', () =>
    expect(nothingToBuild([failure('fn1', 'environment_file /srv/faasline/work/x/env does not exist')])).toEqual({
      description: 'no function can be built: fn1: environment_file …/env does not exist',
      detail: null,
    }));
});
