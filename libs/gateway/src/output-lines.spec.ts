import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { OutputBudget, OutputLines, type OutputLimits } from './output-lines.js';

const limits: OutputLimits = { maxLineBytes: 16, linesPerSecond: 5, bytesPerSecond: 100 };

const given = (overrides: Partial<OutputLimits> = {}) => {
  const logged: string[] = [];
  const budget = new OutputBudget((text) => logged.push(text), { ...limits, ...overrides });
  const stdout = new OutputLines(budget);
  const stderr = new OutputLines(budget);
  return { logged, budget, stdout, stderr, push: (lines: OutputLines, text: string) => lines.push(Buffer.from(text)) };
};

beforeEach(() => {
  jest.useFakeTimers({ now: 0 });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('function output made into log lines', () => {
  it('joins a line written in pieces, and keeps stdout and stderr apart', () => {
    const { logged, stdout, stderr, push } = given();
    push(stdout, 'hel');
    push(stderr, 'oops\n');
    push(stdout, 'lo\n\nworld\n');
    expect(logged).toEqual(['oops', 'hello', 'world']);
  });

  it('cuts a line at the limit and ignores its rest up to the newline', () => {
    const { logged, stdout, push } = given();
    for (let i = 0; i < 10; i++) push(stdout, 'x'.repeat(10));
    push(stdout, 'tail\nnext\n');
    expect(logged).toEqual([`${'x'.repeat(16)} …(cut at 16 bytes)`, 'next']);
  });

  it('keeps no more than the limit of a line without a newline, however much arrives', () => {
    const { logged, stdout, push } = given({ linesPerSecond: 1e9, bytesPerSecond: 1e12 });
    for (let i = 0; i < 1000; i++) push(stdout, 'y'.repeat(1000));
    expect(logged).toHaveLength(1);
    expect((stdout as unknown as { partialBytes: number }).partialBytes).toBe(0);
    stdout.end();
    expect(logged).toHaveLength(1);
  });

  it('logs the last line when the stream ends without a newline', () => {
    const { logged, stdout, push } = given();
    push(stdout, 'no newline');
    stdout.end();
    expect(logged).toEqual(['no newline']);
  });

  it('drops lines beyond the allowance of a second, and says how many once at its end', () => {
    const { logged, stdout, stderr, push } = given();
    push(stdout, 'a\nb\nc\n');
    push(stderr, 'd\ne\nf\ng\n');
    push(stdout, 'y\n'.repeat(1000));
    expect(logged).toEqual(['a', 'b', 'c', 'd', 'e']);
    jest.advanceTimersByTime(1000);
    expect(logged.slice(5)).toEqual(['… 1002 lines dropped (more than 5 lines or 100 bytes of output a second)']);
    push(stdout, 'later\n');
    expect(logged.at(-1)).toBe('later');
  });

  it('counts a line dropped half-way once, and starts the next second on a whole line', () => {
    const { logged, stdout, push } = given({ linesPerSecond: 1 });
    push(stdout, 'one\ntw');
    push(stdout, 'o and');
    jest.advanceTimersByTime(1000);
    push(stdout, ' more\nthree\n');
    expect(logged).toEqual(['one', '… 1 lines dropped (more than 1 lines or 100 bytes of output a second)', 'three']);
  });

  it('holds a second to its bytes as well as its lines', () => {
    const { logged, stdout, push } = given({ maxLineBytes: 1000 });
    push(stdout, `${'a'.repeat(60)}\n${'b'.repeat(60)}\nc\n`);
    expect(logged).toEqual(['a'.repeat(60), 'c']);
    jest.advanceTimersByTime(1000);
    expect(logged.at(-1)).toMatch(/^… 1 lines dropped/);
  });
});
