import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { RunningLog } from './running-log.js';

describe('RunningLog: a running build’s log saved as it grows', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('saves once a moment after the log grows, however many lines came meanwhile', async () => {
    const saves: number[] = [];
    const running = new RunningLog(async () => void saves.push(Date.now()), 1000);
    running.grew();
    running.grew();
    running.grew();
    expect(saves).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1000);
    expect(saves).toHaveLength(1);
    running.grew();
    await jest.advanceTimersByTimeAsync(1000);
    expect(saves).toHaveLength(2);
  });

  it('never saves after stop, so the step’s final save is the last word', async () => {
    let saves = 0;
    const running = new RunningLog(async () => void (saves += 1), 1000);
    running.grew();
    await running.stop();
    running.grew();
    await jest.advanceTimersByTimeAsync(5000);
    expect(saves).toBe(0);
  });

  it('stop waits for a save in flight, and a failed save does not fail the build', async () => {
    let finish: () => void = () => undefined;
    const order: string[] = [];
    const running = new RunningLog(
      () =>
        new Promise<void>((resolve) => {
          order.push('save started');
          finish = () => {
            order.push('save landed');
            resolve();
          };
        }),
      1000,
    );
    running.grew();
    await jest.advanceTimersByTimeAsync(1000);
    const stopped = running.stop().then(() => order.push('stopped'));
    await jest.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['save started']);
    finish();
    await stopped;
    expect(order).toEqual(['save started', 'save landed', 'stopped']);

    const failing = new RunningLog(() => Promise.reject(new Error('database gone')), 1000);
    failing.grew();
    await jest.advanceTimersByTimeAsync(1000);
    await expect(failing.stop()).resolves.toBeUndefined();
  });
});
