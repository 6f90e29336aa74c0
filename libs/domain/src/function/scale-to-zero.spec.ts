import { describe, expect, it } from '@jest/globals';
import { idlePolicy, SCALE_TO_ZERO_LABEL, ZERO_DURATION_LABEL } from './scale-to-zero.js';

const FIFTEEN_MINUTES = 15 * 60_000;

describe('a function’s idle policy', () => {
  it('scales to zero by default, after the server’s idle time, as OpenFaaS Cloud deployed every function', () => {
    expect(idlePolicy({}, FIFTEEN_MINUTES)).toEqual({ idleMs: FIFTEEN_MINUTES, notes: [] });
    expect(idlePolicy(null, FIFTEEN_MINUTES)).toEqual({ idleMs: FIFTEEN_MINUTES, notes: [] });
    expect(idlePolicy({ [SCALE_TO_ZERO_LABEL]: 'true' }, FIFTEEN_MINUTES).idleMs).toBe(FIFTEEN_MINUTES);
  });

  it('keeps a function labelled com.openfaas.scale.zero false running, in every spelling Go reads as false', () => {
    for (const value of ['false', 'False', 'FALSE', 'f', 'F', '0', ' false '])
      expect(idlePolicy({ [SCALE_TO_ZERO_LABEL]: value }, FIFTEEN_MINUTES)).toEqual({ idleMs: null, notes: [] });
  });

  it('takes the idle time of com.openfaas.scale.zero-duration, a Go duration or seconds', () => {
    expect(idlePolicy({ [ZERO_DURATION_LABEL]: '5m' }, FIFTEEN_MINUTES).idleMs).toBe(300_000);
    expect(idlePolicy({ [ZERO_DURATION_LABEL]: '1m30s' }, FIFTEEN_MINUTES).idleMs).toBe(90_000);
    expect(idlePolicy({ [ZERO_DURATION_LABEL]: '120' }, FIFTEEN_MINUTES).idleMs).toBe(120_000);
    expect(idlePolicy({ [SCALE_TO_ZERO_LABEL]: 'false', [ZERO_DURATION_LABEL]: '5m' }, FIFTEEN_MINUTES).idleMs).toBeNull();
  });

  it('ignores labels it cannot read, and says so in words for the function’s log', () => {
    expect(idlePolicy({ [SCALE_TO_ZERO_LABEL]: 'maybe' }, FIFTEEN_MINUTES)).toEqual({
      idleMs: FIFTEEN_MINUTES,
      notes: ['com.openfaas.scale.zero "maybe" is not true or false: read as true'],
    });
    expect(idlePolicy({ [ZERO_DURATION_LABEL]: 'soon' }, FIFTEEN_MINUTES)).toEqual({
      idleMs: FIFTEEN_MINUTES,
      notes: ['com.openfaas.scale.zero-duration "soon" is not a duration (like 5m or 90s): idle after 15m'],
    });
    expect(idlePolicy({ [ZERO_DURATION_LABEL]: '-5m' }, FIFTEEN_MINUTES).idleMs).toBe(FIFTEEN_MINUTES);
  });

  it('never stops a function less than a second after its last call', () => {
    expect(idlePolicy({ [ZERO_DURATION_LABEL]: '10ms' }, FIFTEEN_MINUTES)).toEqual({
      idleMs: 1000,
      notes: ['com.openfaas.scale.zero-duration 10ms is less than 1s: idle after 1s'],
    });
  });

  it('keeps every function running when the server turns scaling to zero off, whatever the labels say', () => {
    expect(idlePolicy({ [SCALE_TO_ZERO_LABEL]: 'true', [ZERO_DURATION_LABEL]: '1m' }, null)).toEqual({ idleMs: null, notes: [] });
  });
});
