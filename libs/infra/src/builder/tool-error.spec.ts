import { describe, expect, it } from '@jest/globals';
import { toolErrorLine, withToolError } from './tool-error.js';

// Real output, as npm 11 and pip 23 print it (paths as they were; the reason scrubs server paths later).
const npm404 = `npm error code E404
npm error 404 Not Found - GET https://registry.npmjs.org/nope-not-a-package - Not found
npm error 404
npm error 404  'nope-not-a-package@*' is not in this registry.
npm error 404
npm error 404 Note that you can also install from a
npm error 404 tarball, folder, http url, or git url.
npm error A complete log of this run can be found in: /var/lib/faasline/npm-cache/alexellis/_logs/2026-12-01T07_30_57_825Z-debug-0.log`;

const npmLocal404 = `npm error code E404
npm error 404 Not Found - GET http://127.0.0.1:47123/nope - Not found
npm error 404
npm error 404  The requested resource 'nope@*' could not be found or you do not have permission to access it.
npm error 404
npm error 404 Note that you can also install from a
npm error 404 tarball, folder, http url, or git url.
npm error A complete log of this run can be found in: /tmp/npm404/cache/_logs/2026-12-01T07_30_57_825Z-debug-0.log`;

const npmNoVersion = `npm error code ETARGET
npm error notarget No matching version found for left-pad@^99.0.0.
npm error notarget In most cases you or one of your dependencies are requesting
npm error notarget a package version that doesn't exist.
npm error A complete log of this run can be found in: /root/.npm/_logs/x-debug-0.log`;

const npmOffline = `npm error code ENOTFOUND
npm error syscall getaddrinfo
npm error errno ENOTFOUND
npm error network request to https://registry.npmjs.org/left-pad failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org
npm error network This is a problem related to network connectivity.
npm error A complete log of this run can be found in: /root/.npm/_logs/x-debug-0.log`;

const npm6 = `npm ERR! code E404
npm ERR! 404 Not Found - GET https://registry.npmjs.org/nope - Not found
npm ERR! 404 
npm ERR! A complete log of this run can be found in:
npm ERR!     /root/.npm/_logs/2020-01-01T00_00_00_000Z-debug.log`;

const pipMissing = `Looking in indexes: https://pypi.org/simple
WARNING: Location 'file:///opt/pypi/simple/nope-pkg/' is ignored: it is neither a file nor a directory.
ERROR: Could not find a version that satisfies the requirement nope-pkg (from versions: none)
ERROR: No matching distribution found for nope-pkg`;

const lines = (text: string) => text.split('\n');

describe('the meaningful line of a failed npm or pip install', () => {
  it('is npm’s 404 line for a package that does not exist, not where its log went', () => {
    expect(toolErrorLine(lines(npm404))).toBe('npm error 404 Not Found - GET https://registry.npmjs.org/nope-not-a-package - Not found');
    expect(toolErrorLine(lines(npmLocal404))).toBe('npm error 404 Not Found - GET http://127.0.0.1:47123/nope - Not found');
    expect(toolErrorLine(lines(npm6))).toBe('npm ERR! 404 Not Found - GET https://registry.npmjs.org/nope - Not found');
  });

  it('is the first line stating the problem for other npm errors', () => {
    expect(toolErrorLine(lines(npmNoVersion))).toBe('npm error notarget No matching version found for left-pad@^99.0.0.');
    expect(toolErrorLine(lines(npmOffline))).toBe(
      'npm error network request to https://registry.npmjs.org/left-pad failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org',
    );
    expect(toolErrorLine(['npm error code EUNKNOWN', 'npm error A complete log of this run can be found in: /x/y.log'])).toBe(
      'npm error code EUNKNOWN',
    );
  });

  it('is pip’s “could not find a version” line for a requirement that does not exist', () =>
    expect(toolErrorLine(lines(pipMissing))).toBe(
      'ERROR: Could not find a version that satisfies the requirement nope-pkg (from versions: none)',
    ));

  it('is pip’s first error otherwise, the last generic error line else, and null without any', () => {
    expect(toolErrorLine(['ERROR: Invalid requirement: "==1"', 'ERROR: something later'])).toBe('ERROR: Invalid requirement: "==1"');
    expect(toolErrorLine(['building', 'error: first', 'error: last'])).toBe('error: last');
    expect(toolErrorLine(['all fine', 'exit'])).toBeNull();
  });
});

describe('a BuildKit failure', () => {
  const solve = 'process "/bin/sh -c npm install --omit=dev" did not complete successfully: exit code: 1';
  it('leads with the tool’s meaningful line, and is the solve’s message alone when the tool printed none', () => {
    expect(withToolError(solve, lines(npm404))).toBe(
      `npm error 404 Not Found - GET https://registry.npmjs.org/nope-not-a-package - Not found (${solve})`,
    );
    expect(withToolError(solve, ['added 3 packages'])).toBe(solve);
  });
});
