import { describe, expect, it } from '@jest/globals';
import { functionNameProblem } from '../naming.js';
import type { LiveFunction } from '../pipeline/deployment.js';
import {
  branchSlug,
  EVERY_BRANCH,
  expiredPreviews,
  isPreview,
  isPreviewBranch,
  PREVIEW_LABEL,
  previewFunctionName,
  previewLabel,
} from './preview.rules.js';

describe('preview names', () => {
  it('are <owner>-<fn>-<branch slug>, separators becoming "-"', () => {
    expect(previewFunctionName('AlexEllis', 'fn1', 'feature/x')).toBe('alexellis-fn1-feature-x');
    expect(previewFunctionName('alexellis', 'fn1', 'fix_login.v2')).toBe('alexellis-fn1-fix-login-v2');
  });

  it('are DNS labels of at most 63 characters, however long the branch', () => {
    const name = previewFunctionName('alexellis', 'fn1', `feature/${'very-long-branch-name-'.repeat(10)}`);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(functionNameProblem(name)).toBeNull();
    expect(name.startsWith('alexellis-fn1-feature-very-long')).toBe(true);
  });

  it('never give two long branches with one prefix the same name', () => {
    const prefix = `feature/${'a'.repeat(80)}`;
    const one = previewFunctionName('alexellis', 'fn1', `${prefix}-one`);
    const two = previewFunctionName('alexellis', 'fn1', `${prefix}-two`);
    expect(one).not.toBe(two);
    expect([one.length, two.length]).toEqual([63, 63]);
  });

  it('tag a branch that loses letters in its slug (upper case, unicode, symbols) with its hash', () => {
    const accented = previewFunctionName('alexellis', 'fn1', 'fix/über-ß');
    expect(accented).toMatch(/^alexellis-fn1-fix-uber-[a-z0-9]{7}$/);
    expect(previewFunctionName('alexellis', 'fn1', 'Feature/X')).not.toBe(previewFunctionName('alexellis', 'fn1', 'feature/x'));
    expect(functionNameProblem(previewFunctionName('alexellis', 'fn1', '🎉'))).toBeNull();
    expect(previewFunctionName('alexellis', 'fn1', '🎉')).toMatch(/^alexellis-fn1-[a-z0-9]{7}$/);
  });

  it('come out too long when <owner>-<fn> leaves no room for the branch, so the name rule rejects them', () =>
    expect(functionNameProblem(previewFunctionName('alexellis', 'f'.repeat(50), 'feature/x'))).toMatch(/limit is 63/));

  it('are stable: the same branch always gets the same slug', () => expect(branchSlug('Feature/X', 20)).toBe(branchSlug('Feature/X', 20)));
});

describe('which branches get previews', () => {
  it('none while PREVIEW_BRANCHES is off', () => expect(isPreviewBranch(null, 'feature/x', 'master')).toBe(false));

  it('every branch but the build branch with PREVIEW_BRANCHES=true', () => {
    const every = { branches: [EVERY_BRANCH] };
    expect(isPreviewBranch(every, 'feature/x/y', 'master')).toBe(true);
    expect(isPreviewBranch(every, 'master', 'master')).toBe(false);
  });

  it('branches matching a pattern: "*" stays in one segment, "**" crosses "/", "?" is one character', () => {
    const policy = { branches: ['feature/*', 'fix-*', 'release/**', 'v?'] };
    expect(['feature/x', 'fix-login', 'release/1/2', 'v2'].map((b) => isPreviewBranch(policy, b, 'main'))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['feature/x/y', 'hotfix-1', 'feature', 'v10', 'fix-'].map((b) => isPreviewBranch(policy, b, 'main'))).toEqual([
      false,
      false,
      false,
      false,
      true,
    ]);
  });

  it('treats pattern characters other than the wildcards literally', () =>
    expect(isPreviewBranch({ branches: ['fix.1'] }, 'fixa1', 'main')).toBe(false));
});

describe('preview expiry', () => {
  const day = 24 * 60 * 60 * 1000;
  const now = Date.parse('2026-12-01T00:00:00Z');
  const fn = (name: string, deployedAtMs: number, branch: string | null): LiveFunction => ({
    name,
    labels: {
      'com.openfaas.cloud.git-cloud': '1',
      'com.openfaas.cloud.git-deploytime': String(Math.floor(deployedAtMs / 1000)),
      ...(branch === null ? {} : { [PREVIEW_LABEL]: previewLabel(branch) }),
    },
  });

  it('removes previews whose branch saw no push for PREVIEW_TTL, never production', () => {
    const live = [fn('a-fn1-old', now - 8 * day, 'old'), fn('a-fn1-new', now - day, 'new'), fn('a-fn1', now - 30 * day, null)];
    expect(expiredPreviews(live, now, 7 * day).map((f) => f.name)).toEqual(['a-fn1-old']);
  });

  it('counts from the last deploy of the branch: exactly PREVIEW_TTL old has expired', () =>
    expect(expiredPreviews([fn('a-fn1-x', now - 7 * day, 'x')], now, 7 * day)).toHaveLength(1));

  it('tells a branch’s previews by their label', () => {
    const preview = fn('a-fn1-feature-x', now, 'feature/x');
    expect([isPreview(preview.labels), isPreview(preview.labels, 'feature/x'), isPreview(preview.labels, 'feature/y')]).toEqual([
      true,
      true,
      false,
    ]);
  });
});
