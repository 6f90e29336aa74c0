import { describe, expect, it } from '@jest/globals';
import { canonicalHost, isAllowedHost, parseHostRule } from './git-hosts.js';
import { gitUrlProblem, templateSourceProblem } from './stack-file/stack-file.rules.js';

const allowed = (url: string, hosts: readonly string[]) => isAllowedHost(new URL(url), hosts);

/** Every way of writing 127.0.0.1 that `new URL` and git's resolver accept. */
const loopbackForms = [
  '127.0.0.1',
  '127.1',
  '0x7f000001',
  '2130706433',
  '0177.0.0.1',
  '0x7f.0.0.1',
  '127.0.0.1.',
  '[::ffff:127.0.0.1]',
  '[0:0:0:0:0:ffff:7f00:1]',
  '%31%32%37.0.0.1',
];

describe('git hosts: compared in canonical form', () => {
  it.each(loopbackForms)('reads %s as 127.0.0.1', (form) =>
    expect(canonicalHost(new URL(`http://${form}:9418/r.git`).hostname)).toBe('127.0.0.1'),
  );

  it.each(loopbackForms)('refuses %s when only github.com is allowed, on any port', (form) => {
    expect(allowed(`http://${form}/r.git`, ['github.com'])).toBe(false);
    expect(allowed(`http://${form}:9418/r.git`, ['github.com'])).toBe(false);
    expect(templateSourceProblem(`http://${form}:9418/r.git`, ['github.com'])).toMatch(/is not in GIT_ALLOWED_HOSTS/);
  });

  it.each(loopbackForms)('allows %s where the operator named 127.0.0.1 explicitly', (form) => {
    expect(allowed(`http://${form}:9418/r.git`, ['127.0.0.1:*'])).toBe(true);
    expect(allowed(`http://${form}:9418/r.git`, ['127.0.0.1:9418'])).toBe(true);
    expect(allowed(`http://${form}:9419/r.git`, ['127.0.0.1:9418'])).toBe(false);
  });

  it('reads the allow list the same way: an entry in another notation is the same host', () => {
    expect(allowed('http://127.0.0.1:9418/r.git', ['127.1:*'])).toBe(true);
    expect(allowed('http://127.0.0.1:9418/r.git', ['0x7f000001:9418'])).toBe(true);
    expect(allowed('https://github.com/o/r.git', ['GitHub.COM.'])).toBe(true);
    expect(allowed('https://GITHUB.com./o/r.git', ['github.com'])).toBe(true);
  });

  it('keeps other addresses and look-alike names apart', () => {
    expect(allowed('http://127.0.0.2:9418/r.git', ['127.0.0.1:*'])).toBe(false);
    expect(allowed('http://[::1]:9418/r.git', ['127.0.0.1:*'])).toBe(false);
    expect(allowed('http://localhost:9418/r.git', ['127.0.0.1:*'])).toBe(false);
    expect(allowed('https://github.com.evil.example/o/r.git', ['github.com'])).toBe(false);
    expect(allowed('https://evilgithub.com/o/r.git', ['github.com'])).toBe(false);
    expect(allowed('http://[::ffff:10.0.0.1]/r.git', ['127.0.0.1:*'])).toBe(false);
  });

  it('matches ports: a bare host means its default port only, host:443 the https default, host:* any', () => {
    expect(allowed('https://github.com/o/r.git', ['github.com'])).toBe(true);
    expect(allowed('https://github.com:8443/o/r.git', ['github.com'])).toBe(false);
    expect(allowed('https://github.com/o/r.git', ['github.com:443'])).toBe(true);
    expect(allowed('https://github.com:8443/o/r.git', ['github.com:*'])).toBe(true);
  });

  it('parses entries into canonical rules and refuses what is not host, host:port or host:*', () => {
    expect(parseHostRule('127.1:*')).toEqual({ hostname: '127.0.0.1', port: '*' });
    expect(parseHostRule('Git.Example.:08443')).toEqual({ hostname: 'git.example', port: '8443' });
    expect(parseHostRule('[::1]:*')).toEqual({ hostname: '[::1]', port: '*' });
    expect(parseHostRule('github.com')).toEqual({ hostname: 'github.com', port: null });
    for (const bad of ['https://github.com', 'github.com/x', 'user@github.com', 'github.com:99999', 'github.com:8080:*', ''])
      expect(parseHostRule(bad)).toBeNull();
  });

  it('checks a clone URL in any notation against the list', () => {
    expect(gitUrlProblem('http://0x7f000001:9418/o/r.git', ['github.com'])).toBe('host 127.0.0.1:9418 is not in GIT_ALLOWED_HOSTS');
    expect(gitUrlProblem('http://0x7f000001:9418/o/r.git', ['127.0.0.1:*'])).toBeNull();
  });
});
