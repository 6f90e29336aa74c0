import { describe, expect, it } from '@jest/globals';
import { githubRemote } from './git-remote.js';

describe('githubRemote', () => {
  it.each([
    ['https://github.com/alexellis/fns.git', 'alexellis', 'fns'],
    ['https://github.com/alexellis/fns', 'alexellis', 'fns'],
    ['https://x-access-token:abc@github.com/Org-1/repo.name.git', 'Org-1', 'repo.name'],
    ['https://www.github.com/alexellis/fns/', 'alexellis', 'fns'],
    ['git@github.com:openfaas/faas-cli.git', 'openfaas', 'faas-cli'],
    ['github.com:openfaas/faas-cli', 'openfaas', 'faas-cli'],
    ['ssh://git@github.com/openfaas/of_watchdog.git', 'openfaas', 'of_watchdog'],
    ['ssh://git@github.com:22/openfaas/faas', 'openfaas', 'faas'],
  ])('reads %s as %s/%s', (url, owner, repo) => {
    expect(githubRemote(url)).toEqual({ owner, repo });
  });

  it.each([
    'https://gitlab.com/alexellis/fns.git',
    'https://github.com.evil.example/alexellis/fns.git',
    'https://evil.example/github.com/alexellis/fns.git',
    'git@gitlab.com:alexellis/fns.git',
    'https://github.com/alexellis',
    'https://github.com/alexellis/fns/tree/master',
    'https://github.com/-bad/fns',
    '/srv/git/fns.git',
    '',
  ])('refuses %s', (url) => {
    expect(githubRemote(url)).toBeNull();
  });
});
