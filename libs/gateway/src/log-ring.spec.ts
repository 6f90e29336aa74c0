import { describe, expect, it } from '@jest/globals';
import { LogRing } from './log-ring.js';

const line = (text: string) => ({ name: 'fn', instance: 'i', timestamp: '2026-01-01T00:00:00.000Z', text });

describe('the log ring', () => {
  it('keeps lines in order, oldest first', () => {
    const ring = new LogRing(1e6);
    for (const text of ['a', 'b', 'c']) ring.push(line(text));
    expect([...ring.lines()].map((kept) => kept.text)).toEqual(['a', 'b', 'c']);
  });

  it('keeps only the newest lines that fit its bytes, however many arrive', () => {
    const ring = new LogRing(100_000);
    for (let i = 0; i < 50_000; i++) ring.push(line(`${i} ${'x'.repeat(i % 3000)}`));
    expect(ring.usedBytes).toBeLessThanOrEqual(100_000);
    const texts = [...ring.lines()].map((kept) => Number(kept.text.split(' ')[0]));
    expect(texts.at(-1)).toBe(49_999);
    expect(texts).toEqual(texts.map((_, index) => texts[0]! + index));
  });

  it('grows past its first slots without losing or reordering lines', () => {
    const ring = new LogRing(1e9);
    for (let i = 0; i < 5000; i++) ring.push(line(String(i)));
    expect(ring.size).toBe(5000);
    expect([...ring.lines()].map((kept) => Number(kept.text))).toEqual([...Array(5000).keys()]);
  });
});
