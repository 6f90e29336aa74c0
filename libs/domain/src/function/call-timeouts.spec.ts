import { describe, expect, it } from '@jest/globals';
import { callTimeouts, formatDuration, parseWatchdogDuration } from './call-timeouts.js';

const policy = { defaultMs: 60_000, maxMs: 300_000 };

describe('watchdog durations (parseIntOrDurationValue)', () => {
  it('reads plain seconds and Go durations', () => {
    expect(parseWatchdogDuration('30')).toBe(30_000);
    expect(parseWatchdogDuration('2s')).toBe(2000);
    expect(parseWatchdogDuration('1m30s')).toBe(90_000);
    expect(parseWatchdogDuration('1.5h')).toBe(5_400_000);
    expect(parseWatchdogDuration('500ms')).toBe(500);
    expect(parseWatchdogDuration(' 10s ')).toBe(10_000);
    expect(parseWatchdogDuration('0')).toBe(0);
    expect(parseWatchdogDuration('-1s')).toBe(-1000);
  });

  it('does not read what Go does not', () => {
    for (const text of ['', '2 s', 's', '10x', '1d', 'ten', '1.s5', undefined]) expect(parseWatchdogDuration(text)).toBeNull();
  });

  it('prints durations the way they are written', () => {
    expect(formatDuration(2000)).toBe('2s');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(300_000)).toBe('5m');
    expect(formatDuration(250)).toBe('250ms');
  });
});

describe('a function’s call timeouts', () => {
  it('are the default when the environment sets none', () =>
    expect(callTimeouts({ mode: 'x' }, policy)).toEqual({ callMs: 60_000, readMs: 60_000, notes: [] }));

  it('end the call at exec_timeout', () =>
    expect(callTimeouts({ exec_timeout: '2s' }, policy)).toMatchObject({ callMs: 2000, readMs: 2000 }));

  it('may be longer than the default, up to the server maximum', () =>
    expect(callTimeouts({ exec_timeout: '2m' }, policy)).toMatchObject({ callMs: 120_000 }));

  it('end the call at the first of exec_timeout and write_timeout', () => {
    expect(callTimeouts({ exec_timeout: '20s', write_timeout: '5s' }, policy).callMs).toBe(5000);
    expect(callTimeouts({ write_timeout: '7' }, policy).callMs).toBe(7000);
  });

  it('bound the request’s arrival by read_timeout, never beyond the call', () => {
    expect(callTimeouts({ exec_timeout: '10s', read_timeout: '1s' }, policy)).toMatchObject({ callMs: 10_000, readMs: 1000 });
    expect(callTimeouts({ exec_timeout: '1s', read_timeout: '10s' }, policy)).toMatchObject({ callMs: 1000, readMs: 1000 });
  });

  it('are capped by the server maximum, and say so', () =>
    expect(callTimeouts({ exec_timeout: '1h' }, policy)).toEqual({
      callMs: 300_000,
      readMs: 300_000,
      notes: ["exec_timeout 1h is more than the server's maximum: 5m"],
    }));

  it('take zero as "no limit": the default', () => expect(callTimeouts({ exec_timeout: '0' }, policy).callMs).toBe(60_000));

  it('ignore what is not a duration, and say so', () =>
    expect(callTimeouts({ exec_timeout: 'soon' }, policy)).toEqual({
      callMs: 60_000,
      readMs: 60_000,
      notes: ['exec_timeout "soon" is not a duration (like 30s or 1m30s): ignored'],
    }));

  it('never exceed a maximum below the default', () => expect(callTimeouts({}, { defaultMs: 60_000, maxMs: 10_000 }).callMs).toBe(10_000));
});
