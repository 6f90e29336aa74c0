import { describe, expect, it } from '@jest/globals';
import { BuildLog } from './build-log.js';

describe('BuildLog', () => {
  it('keeps a short build’s whole output', () => {
    const log = new BuildLog(100, 100);
    for (const line of ['one', 'two', 'three']) log.push(line);
    expect(log.text()).toBe('one\ntwo\nthree');
    expect(log.omittedBytes).toBe(0);
    expect(log.lastLines()).toBe('one\ntwo\nthree');
  });

  it('keeps head and tail of a flood and says how much it left out between', () => {
    const log = new BuildLog(1000, 10_000);
    let total = 0;
    for (let i = 0; i < 100_000; i += 1) {
      const line = `line ${i} ${'x'.repeat(40)}`;
      total += Buffer.byteLength(line) + 1;
      log.push(line);
    }
    const text = log.text();
    expect(text.startsWith('line 0 ')).toBe(true);
    expect(text.endsWith(`line 99999 ${'x'.repeat(40)}`)).toBe(true);
    expect(Buffer.byteLength(text)).toBeLessThan(11_100);
    expect(text).toMatch(new RegExp(`\\n… ${log.omittedBytes} bytes omitted …\\n`));
    expect(log.omittedBytes).toBeGreaterThan(total - 11_100);
    expect(log.lastLines().split('\n')).toHaveLength(20);
    expect(log.lastLines()).toMatch(/line 99999 x+$/);
  });

  it('cuts a single huge line instead of keeping it whole', () => {
    const log = new BuildLog(100_000, 100_000);
    log.push('y'.repeat(5_000_000));
    expect(log.text().length).toBeLessThan(20_000);
    expect(log.text()).toMatch(/line cut at 16384 characters/);
  });
});
