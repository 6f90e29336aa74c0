import { describe, expect, it } from '@jest/globals';
import { pathFilter } from './path-patterns.js';

const kept = (filter: Partial<Parameters<typeof pathFilter>[0]>, paths: string[]) => {
  const keep = pathFilter({ includes: [], excludes: [], followPaths: [], ...filter });
  return paths.filter((path) => keep(path));
};

describe('the path filters BuildKit asks a FileSync sender for', () => {
  const tree = [
    '.dockerignore',
    'Dockerfile',
    'debug.log',
    'keep.log',
    'node_modules',
    'node_modules/x/index.js',
    'src',
    'src/a.js',
    'src/deep/b.log',
  ];

  it('excludes as .dockerignore does: a folder takes its contents, `**` spans folders, a later `!` line re-includes', () => {
    expect(kept({ excludes: ['node_modules', '**/*.log', '!keep.log'] }, tree)).toEqual([
      '.dockerignore',
      'Dockerfile',
      'keep.log',
      'src',
      'src/a.js',
    ]);
  });

  it('leaves a nested log for `*.log`: `*` stays within one path element', () => {
    expect(kept({ excludes: ['*.log'] }, tree)).toContain('src/deep/b.log');
  });

  it('sends only what followpaths name (the frontend’s Dockerfile read), nothing for a name that is absent', () => {
    expect(kept({ followPaths: ['Dockerfile', 'Dockerfile.dockerignore', 'dockerfile'] }, tree)).toEqual(['Dockerfile']);
    expect(kept({ followPaths: ['.dockerignore'] }, ['Dockerfile', 'src/a.js'])).toEqual([]);
  });

  it('reads include patterns relative to the root, `./` and a leading `/` alike', () => {
    expect(kept({ includes: ['./src/*.js', '/Dockerfile'] }, tree)).toEqual(['Dockerfile', 'src/a.js']);
  });
});
