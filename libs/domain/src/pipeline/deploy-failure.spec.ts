import { describe, expect, it } from '@jest/globals';
import { afterFailedDeploy, crashReason } from './deploy-failure.js';

const nodeCrash = [
  '/var/lib/faasline/images/sha256-ab/context/function/handler.js:1',
  "throw new Error('no config')",
  '^',
  '',
  'Error: no config',
  '    at Object.<anonymous> (/var/lib/faasline/images/sha256-ab/context/function/handler.js:1:7)',
  '',
  'Node.js v20.20.2',
];
const pythonCrash = [
  'Traceback (most recent call last):',
  '  File "/home/app/index.py", line 12, in <module>',
  '    from function import handler',
  '  File "/home/app/function/handler.py", line 1, in <module>',
  '    import missing_module',
  "ModuleNotFoundError: No module named 'missing_module'",
];

describe('a failed deploy', () => {
  it('is not retried when the function crashed before it was healthy: it fails at once with its error', () =>
    expect(afterFailedDeploy({ kind: 'crashed-at-start', exit: 'exit code 1', output: nodeCrash }, 1, 5)).toEqual({
      retry: false,
      reason: 'crashed at start (exit code 1): Error: no config',
    }));

  it('is not retried when the gateway refused it', () =>
    expect(afterFailedDeploy({ kind: 'refused', message: 'gateway answered 400' }, 1, 5)).toEqual({
      retry: false,
      reason: 'gateway answered 400',
    }));

  it('is retried while the gateway is unavailable, up to the last attempt', () => {
    expect(afterFailedDeploy({ kind: 'unavailable', message: 'gateway answered 503' }, 4, 5)).toEqual({ retry: true });
    expect(afterFailedDeploy({ kind: 'unavailable', message: 'gateway answered 503' }, 5, 5)).toEqual({
      retry: false,
      reason: 'gateway answered 503',
    });
  });
});

describe('the reason of a crash at start', () => {
  it('quotes python’s error line', () =>
    expect(crashReason('exit code 1', pythonCrash)).toBe(
      "crashed at start (exit code 1): ModuleNotFoundError: No module named 'missing_module'",
    ));

  it('quotes the first meaningful lines when there is no error line, without server paths', () =>
    expect(crashReason('signal SIGKILL', ['', 'cannot read /var/lib/faasline/data/config.json', 'giving up'])).toBe(
      'crashed at start (signal SIGKILL): cannot read …/config.json | giving up',
    ));

  it('says when the function printed nothing', () =>
    expect(crashReason('exit code 3', [])).toBe('crashed at start (exit code 3), printing nothing'));

  it('is bounded whatever the function printed', () =>
    expect(crashReason('exit code 1', [`Error: ${'x'.repeat(5000)}`]).length).toBeLessThan(400));
});
