import { describe, expect, it } from '@jest/globals';
import { specFor } from '../spec.js';
import { fold } from '../decider.js';
import type { RepositoryEvent } from '../events.js';
import { fetchedData } from '../spec-fixtures.js';
import {
  newestPushOn,
  pushIdempotencyKey,
  repositoryDecider,
  rerunIdempotencyKey,
  type RerunRequest,
  type PushDelivery,
  type PushPolicy,
  type RepositoryCommand,
} from './repository.decider.js';

const given = specFor(repositoryDecider);
const everyone: PushPolicy = { customers: null, buildBranch: null };

const delivery = (overrides: Partial<PushDelivery> = {}): PushDelivery => ({
  deliveryId: 'd-1',
  owner: 'Alexellis',
  ownerId: 653013,
  repo: 'go-fns',
  repositoryId: 42,
  private: false,
  ref: 'refs/heads/master',
  before: 'a'.repeat(40),
  after: 'b'.repeat(40),
  defaultBranch: 'master',
  cloneUrl: 'https://github.com/alexellis/go-fns.git',
  installationId: 7,
  pusher: 'alexellis',
  receivedAt: '2026-11-25T00:00:00.000Z',
  pushedAt: '1764028800',
  ...overrides,
});

const push = (overrides: Partial<PushDelivery> = {}, policy = everyone): RepositoryCommand => ({
  type: 'RecordPush',
  data: { ...delivery(overrides), policy },
});

const received = (overrides: Partial<PushDelivery> = {}): RepositoryEvent => {
  const { defaultBranch: _default, pushedAt: _pushedAt, after, ...rest } = delivery(overrides);
  return { type: 'PushReceived', data: { ...rest, sha: after, branch: rest.ref.replace('refs/heads/', '') } };
};

const ignored = (reason: string, overrides: Partial<PushDelivery> = {}): RepositoryEvent => {
  const d = delivery(overrides);
  return { type: 'PushIgnored', data: { deliveryId: d.deliveryId, owner: d.owner, repo: d.repo, ref: d.ref, sha: d.after, reason } };
};

describe('repository decider: which pushes build', () => {
  it('accepts a push to the default branch', () => given().when(push()).then(received()));

  it('accepts a push to the configured build branch instead of the default one', () =>
    given()
      .when(push({ ref: 'refs/heads/live' }, { customers: null, buildBranch: 'live' }))
      .then(received({ ref: 'refs/heads/live' })));

  it('ignores other branches with OpenFaaS Cloud’s wording', () =>
    given()
      .when(push({ ref: 'refs/heads/dev' }))
      .then(ignored('skipping build for: dev branch, the build branch is: master', { ref: 'refs/heads/dev' })));

  it('ignores tag pushes', () =>
    given()
      .when(push({ ref: 'refs/tags/simple-tag' }))
      .then(ignored('tag push simple-tag: only branch pushes build', { ref: 'refs/tags/simple-tag' })));

  it('ignores a deleted build branch', () =>
    given()
      .when(push({ after: '0'.repeat(40) }))
      .then(ignored('branch master was deleted', { after: '0'.repeat(40) })));

  it('without a sandbox, builds only owners named in CUSTOMERS and pushes from faasline push on loopback', () => {
    const closed: PushPolicy = { customers: null, buildBranch: null, trustedOwnersOnly: true };
    given().when(push({}, closed)).then(ignored('no sandbox on this server: only owners in CUSTOMERS and local faasline push build'));
    given()
      .when(push({ cloneUrl: 'http://127.0.0.1:41234/alexellis/go-fns.git' }, closed))
      .then(received({ cloneUrl: 'http://127.0.0.1:41234/alexellis/go-fns.git' }));
    given()
      .when(push({}, { ...closed, customers: ['alexellis'] }))
      .then(received());
    given()
      .when(push({ owner: 'mallory' }, { ...closed, customers: ['alexellis'] }))
      .then(ignored('owner mallory is not in CUSTOMERS', { owner: 'mallory' }));
  });

  it('checks the owner against CUSTOMERS case-insensitively', () => {
    given()
      .when(push({}, { customers: ['alexellis'], buildBranch: null }))
      .then(received());
    given()
      .when(push({ owner: 'someone' }, { customers: ['alexellis'], buildBranch: null }))
      .then(ignored('owner someone is not in CUSTOMERS', { owner: 'someone' }));
  });

  it('does not need earlier events to decide: a second push is accepted after the first', () =>
    given(received())
      .when(push({ deliveryId: 'd-2' }))
      .then(received({ deliveryId: 'd-2' })));

  it('cuts a source rejection to a commit status description', () => {
    const reason = 'x'.repeat(300);
    const data = { deliveryId: 'd-1', owner: 'alexellis', repo: 'go-fns', branch: 'master', sha: 'b'.repeat(40), reason };
    given()
      .when({ type: 'RecordSourceRejected', data })
      .then({ type: 'SourceRejected', data: { ...data, reason: `${'x'.repeat(139)}…` } });
  });
});

describe('repository decider: branch previews', () => {
  const previews = (branches: string[]): PushPolicy => ({ ...everyone, previews: { branches } });
  const previewReceived = (overrides: Partial<PushDelivery>): RepositoryEvent => {
    const event = received(overrides) as Extract<RepositoryEvent, { type: 'PushReceived' }>;
    return { ...event, data: { ...event.data, preview: true } };
  };

  it('accepts a push to a matching branch as a preview', () =>
    given()
      .when(push({ ref: 'refs/heads/feature/x' }, previews(['feature/*'])))
      .then(previewReceived({ ref: 'refs/heads/feature/x' })));

  it('still ignores a branch no pattern matches', () =>
    given()
      .when(push({ ref: 'refs/heads/dev' }, previews(['feature/*'])))
      .then(ignored('skipping build for: dev branch, the build branch is: master', { ref: 'refs/heads/dev' })));

  it('never makes the build branch a preview, even when a pattern matches it', () =>
    given()
      .when(push({}, previews(['**'])))
      .then(received()));

  it('records a deleted branch as ignored (the pipeline removes its previews on it)', () =>
    given()
      .when(push({ ref: 'refs/heads/feature/x', after: '0'.repeat(40) }, previews(['**'])))
      .then(ignored('branch feature/x was deleted', { ref: 'refs/heads/feature/x', after: '0'.repeat(40) })));

  it('keeps the newest push per branch: a preview push does not move production’s', () => {
    const state = fold(repositoryDecider, [received(), previewReceived({ ref: 'refs/heads/feature/x', after: 'c'.repeat(40) })]);
    expect(newestPushOn(state, 'master')).toEqual({ sequence: 1, sha: 'b'.repeat(40) });
    expect(newestPushOn(state, 'feature/x')).toEqual({ sequence: 2, sha: 'c'.repeat(40) });
  });
});

describe('repository decider: one push is recorded once', () => {
  const key = (overrides: Partial<PushDelivery> = {}) => pushIdempotencyKey(delivery(overrides));

  it('gives a replayed body the same key under any delivery id, so the store records it once', () =>
    expect(key({ deliveryId: 'd-2', receivedAt: '2026-11-26T00:00:00.000Z' })).toBe(key()));

  it('tells pushes of another repository, ref or SHA apart', () => {
    expect(key({ repositoryId: 43 })).not.toBe(key());
    expect(key({ ref: 'refs/heads/live' })).not.toBe(key());
    expect(key({ after: 'c'.repeat(40) })).not.toBe(key());
  });

  it('keys on the repository id, not its name: a renamed repository is the same repository', () =>
    expect(key({ owner: 'renamed', repo: 'renamed' })).toBe(key()));

  it('builds a force-push back to an earlier SHA (a revert): it comes from another SHA, at another time', () => {
    expect(key({ before: 'c'.repeat(40), pushedAt: '1764032400' })).not.toBe(key());
    expect(key({ pushedAt: '1764032400' })).not.toBe(key());
  });
});

describe('repository decider: the newest accepted push of each branch', () => {
  const fetched: RepositoryEvent = {
    type: 'SourceFetched',
    data: fetchedData('b'.repeat(40), [], { repo: 'go-fns' }),
  };

  it('is the last push received on the branch, at its place in the repository stream', () => {
    const state = fold(repositoryDecider, [
      received(),
      fetched,
      received({ after: 'c'.repeat(40) }),
      received({ ref: 'refs/heads/live', after: 'd'.repeat(40) }),
    ]);
    expect(newestPushOn(state, 'master')).toEqual({ sequence: 3, sha: 'c'.repeat(40) });
    expect(newestPushOn(state, 'live')).toEqual({ sequence: 4, sha: 'd'.repeat(40) });
  });

  it('is none (sequence 0) before any push of the branch', () => {
    expect(newestPushOn(fold(repositoryDecider, [received()]), 'dev')).toEqual({ sequence: 0, sha: '' });
  });
});

describe('repository decider: the re-run button of a check run', () => {
  const rerun = (overrides: Partial<RerunRequest> = {}, policy = everyone): RepositoryCommand => {
    const { ref: _ref, after: _after, before: _before, pushedAt: _pushedAt, pusher: _pusher, ...repository } = delivery();
    return {
      type: 'RecordRerun',
      data: {
        ...repository,
        deliveryId: 'rerun-1',
        checkRunId: 4001,
        checkRunAppId: 42,
        appId: 42,
        branch: 'master',
        before: 'a'.repeat(40),
        sha: 'b'.repeat(40),
        sender: 'octocat',
        ...overrides,
        policy,
      },
    };
  };

  it('runs the newest push of the branch again as a new delivery, pushed by whoever pressed re-run', () =>
    given(received())
      .when(rerun())
      .then(received({ deliveryId: 'rerun-1', pusher: 'octocat' })));

  it('ignores a check run another GitHub App created, and says why', () =>
    given(received())
      .when(rerun({ checkRunAppId: 2 }))
      .then(ignored('re-run of check run 4001 ignored: it was created by GitHub App 2, not by this one', { deliveryId: 'rerun-1' })));

  it('ignores every re-run when this server runs as no GitHub App', () =>
    given(received())
      .when(rerun({ appId: null }))
      .then(ignored('re-run of check run 4001 ignored: it was created by GitHub App 42, not by this one', { deliveryId: 'rerun-1' })));

  it('never rolls the branch back: an older commit’s check run is not re-run', () =>
    given(received(), received({ after: 'c'.repeat(40) }))
      .when(rerun())
      .then(ignored('re-run of bbbbbbb ignored: ccccccc is the newest push on master', { deliveryId: 'rerun-1' })));

  it('ignores a commit faasline never built on that branch', () =>
    given()
      .when(rerun())
      .then(ignored('re-run of bbbbbbb ignored: no push of master was built here', { deliveryId: 'rerun-1' })));

  it('applies today’s policy: an owner no longer in CUSTOMERS is not re-run', () =>
    given(received())
      .when(rerun({}, { customers: ['someone'], buildBranch: null }))
      .then(ignored('owner Alexellis is not in CUSTOMERS', { deliveryId: 'rerun-1' })));

  it('is keyed on the check run, apart from the push it re-runs', () =>
    expect(rerunIdempotencyKey({ repositoryId: 42, checkRunId: 4001 })).not.toBe(pushIdempotencyKey(delivery())));
});
