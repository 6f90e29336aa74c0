import { describe, expect, it } from '@jest/globals';
import { buildsProjection } from './builds.projection.js';
import { functionsProjection } from './functions.projection.js';
import { functionSpec, pushContext } from '../../../../libs/domain/src/spec-fixtures.js';
import { given, recorded } from '../../test/support/projection-spec.js';
import { pushesProjection } from './pushes.projection.js';

const sha = (c: string) => c.repeat(40);
const ref = (buildId: string, commit = sha('a')) => ({
  buildId,
  name: 'alexellis-fn1',
  owner: 'alexellis',
  repo: 'fns',
  sha: commit,
  contextDigest: 'sha256:d1',
});
const started = (buildId: string, commit?: string) => recorded({ type: 'BuildStarted', data: ref(buildId, commit) });
const succeeded = (buildId: string, commit?: string) =>
  recorded({
    type: 'BuildSucceeded',
    data: {
      ...ref(buildId, commit),
      image: `local/alexellis/fns-fn1:${buildId}`,
      imageDigest: null,
      builder: 'local',
      durationMs: 1200,
      logRef: buildId,
      logTail: '',
    },
  });
const failed = (buildId: string, commit?: string) =>
  recorded({
    type: 'BuildFailed',
    data: { ...ref(buildId, commit), reason: 'npm install exited 1', durationMs: 800, logRef: buildId, logTail: 'npm ERR!' },
  });
const superseded = (buildId: string, commit: string, by: string) =>
  recorded({ type: 'BuildSuperseded', data: { ...ref(buildId, commit), image: `local/alexellis/fns-fn1:${buildId}`, supersededBy: by } });
const deployed = (buildId: string, commit = sha('a')) =>
  recorded({
    type: 'FunctionDeployed',
    data: {
      name: 'alexellis-fn1',
      owner: 'alexellis',
      repo: 'fns',
      function: 'fn1',
      branch: 'main',
      sha: commit,
      image: `local/alexellis/fns-fn1:${buildId}`,
      endpoint: 'http://127.0.0.1:8081/function/alexellis-fn1',
      deliveryId: 'delivery-1',
      buildId,
      pushSequence: 1,
      ownerId: 1,
      repositoryId: 2,
    },
  });

describe('functions read model', () => {
  it('is building, then deploying, then ready at the deployed sha and image', () =>
    given(functionsProjection, started('b1'), succeeded('b1'), deployed('b1')).then('alexellis-fn1', {
      status: 'ready',
      sha: sha('a'),
      image: 'local/alexellis/fns-fn1:b1',
      function: 'fn1',
      endpoint: 'http://127.0.0.1:8081/function/alexellis-fn1',
    }));

  it('keeps showing the deployed sha while a newer commit builds', () =>
    given(functionsProjection, started('b1'), succeeded('b1'), deployed('b1'), started('b2', sha('b'))).then('alexellis-fn1', {
      status: 'building',
      sha: sha('a'),
    }));

  it('shows the sha being built before any version is deployed', () =>
    given(functionsProjection, started('b1', sha('c'))).then('alexellis-fn1', { status: 'building', sha: sha('c'), image: null }));

  it('knows a preview’s stack key and branch while it is still building', () =>
    given(
      functionsProjection,
      recorded({
        type: 'BuildStarted',
        data: { ...ref('b1'), name: 'alexellis-fn1-feature-x', function: 'fn1', branch: 'feature/x' },
      }),
    ).then('alexellis-fn1-feature-x', { status: 'building', function: 'fn1', branch: 'feature/x' }));

  it('says why the newest build failed, while the deployed version stays', () =>
    given(functionsProjection, started('b1'), succeeded('b1'), deployed('b1'), started('b2', sha('b')), failed('b2', sha('b'))).then(
      'alexellis-fn1',
      {
        status: 'failed',
        reason: 'build failed: npm install exited 1',
        image: 'local/alexellis/fns-fn1:b1',
      },
    ));

  it('falls back to ready when its newest build is superseded, but not when an older one is', () => {
    given(
      functionsProjection,
      started('b1'),
      succeeded('b1'),
      deployed('b1'),
      started('b2', sha('b')),
      succeeded('b2', sha('b')),
      superseded('b2', sha('b'), sha('c')),
    ).then('alexellis-fn1', { status: 'ready', sha: sha('a') });
    given(
      functionsProjection,
      started('b1'),
      started('b2', sha('b')),
      succeeded('b1'),
      started('b3', sha('c')),
      superseded('b1', sha('a'), sha('c')),
    ).then('alexellis-fn1', {
      status: 'building',
    });
  });

  it('keeps the holder’s row when another owner or repository is refused the same name', () => {
    const foreign = { name: 'alexellis-fn1', owner: 'alexellis-x', repo: 'fns', sha: sha('e'), buildId: 'x1' };
    given(
      functionsProjection,
      started('b1'),
      succeeded('b1'),
      deployed('b1'),
      recorded({
        type: 'DeployFailed',
        data: { ...foreign, reason: 'function name alexellis-fn1 belongs to GitHub owner alexellis: rename the function in stack.yml' },
      }),
    ).then('alexellis-fn1', { status: 'ready', owner: 'alexellis', repo: 'fns', sha: sha('a'), reason: null, status_build_id: 'b1' });
    given(
      functionsProjection,
      started('b1'),
      succeeded('b1'),
      deployed('b1'),
      recorded({ type: 'BuildStarted', data: { ...ref('x2', sha('e')), repo: 'other' } }),
    ).then('alexellis-fn1', { status: 'ready', status_build_id: 'b1' });
  });

  it('shows failure reasons without server paths, also from events recorded before they were scrubbed', () => {
    const old = recorded({
      type: 'BuildFailed',
      data: { ...ref('b1'), reason: "ENOENT: open '/var/lib/faasline/data/images/x/index'", durationMs: 1, logRef: 'b1', logTail: '' },
    });
    given(functionsProjection, started('b1'), old).then('alexellis-fn1', { reason: "build failed: ENOENT: open '…/index'" });
    given(buildsProjection, started('b1'), old).then('b1', { reason: "ENOENT: open '…/index'" });
  });

  it('is removed with the reason', () =>
    given(
      functionsProjection,
      started('b1'),
      succeeded('b1'),
      deployed('b1'),
      recorded({ type: 'FunctionRemoved', data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'not-in-stack' } }),
    ).then('alexellis-fn1', { status: 'removed', reason: 'removed: not-in-stack' }));

  it('is removed when deleted, with the words of whoever deleted it, and ready again when a push deploys it', () => {
    const deleted = recorded({
      type: 'FunctionRemoved',
      data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'deleted', note: 'not needed' },
    });
    given(functionsProjection, started('b1'), succeeded('b1'), deployed('b1'), deleted).then('alexellis-fn1', {
      status: 'removed',
      reason: 'removed: deleted (not needed)',
    });
    given(functionsProjection, started('b1'), succeeded('b1'), deployed('b1'), deleted, deployed('b1')).then('alexellis-fn1', {
      status: 'ready',
      reason: null,
    });
  });

  it('deploys a rolled-back build, then shows its sha and image', () => {
    const rolledBack = recorded({
      type: 'FunctionRolledBack',
      data: {
        ...ref('b1'),
        image: 'local/alexellis/fns-fn1:b1',
        fromBuildId: 'b2',
        fromSha: sha('b'),
        fromImage: 'local/alexellis/fns-fn1:b2',
        reason: 'b answers 500',
        holdsThroughPush: 2,
        push: pushContext(sha('a'), { deliveryId: 'delivery-1', branch: 'main' }),
        spec: functionSpec('fn1', { handler: './fn1', image: 'fn1', contextDigest: 'sha256:d1' }),
      },
    });
    const v1v2 = [
      started('b1'),
      succeeded('b1'),
      deployed('b1'),
      started('b2', sha('b')),
      succeeded('b2', sha('b')),
      deployed('b2', sha('b')),
    ];
    given(functionsProjection, ...v1v2, rolledBack).then('alexellis-fn1', { status: 'deploying', sha: sha('b') });
    given(functionsProjection, ...v1v2, rolledBack, deployed('b1')).then('alexellis-fn1', {
      status: 'ready',
      sha: sha('a'),
      image: 'local/alexellis/fns-fn1:b1',
    });
  });
});

describe('functions refused at source', () => {
  const rejected = (commit = sha('b'), name = 'alexellis-fn1', fn = 'fn1') =>
    recorded({
      type: 'FunctionRejected',
      data: {
        name,
        owner: 'alexellis',
        repo: 'fns',
        function: fn,
        branch: 'main',
        sha: commit,
        deliveryId: 'delivery-2',
        reason: `${fn}: unknown language "cobol" (available: node20, python3)`,
      },
    });

  it('lists a function refused at source as failed with its reason, its key and its branch', () =>
    given(functionsProjection, rejected()).then('alexellis-fn1', {
      status: 'failed',
      reason: 'fn1: unknown language "cobol" (available: node20, python3)',
      function: 'fn1',
      branch: 'main',
      sha: sha('b'),
      image: null,
      endpoint: null,
    }));

  it('keeps a stack key that makes no service name as it was written', () =>
    given(functionsProjection, rejected(sha('b'), 'alexellis-My%20Fn', 'My Fn')).then('alexellis-My%20Fn', {
      status: 'failed',
      function: 'My Fn',
    }));

  it('builds and deploys normally once a later push fixes it', () =>
    given(functionsProjection, rejected(), started('b1'), succeeded('b1'), deployed('b1')).then('alexellis-fn1', {
      status: 'ready',
      reason: null,
      sha: sha('a'),
    }));

  it('says why the newest push did not change a deployed function, which keeps running', () =>
    given(functionsProjection, started('b1'), succeeded('b1'), deployed('b1'), rejected()).then('alexellis-fn1', {
      status: 'failed',
      image: 'local/alexellis/fns-fn1:b1',
      sha: sha('a'),
      endpoint: 'http://127.0.0.1:8081/function/alexellis-fn1',
    }));

  it('points its status at the builds entry of the rejection, whose push says who may read it (private repositories)', () => {
    const event = rejected();
    given(functionsProjection, event).then('alexellis-fn1', { status_build_id: event.metadata.eventId });
    given(buildsProjection, event).then(event.metadata.eventId, { id: event.metadata.eventId, delivery_id: event.metadata.correlationId });
  });

  it('shows one failed entry in its builds that never ran', () => {
    const event = rejected();
    given(buildsProjection, event).then(event.metadata.eventId, {
      function_name: 'alexellis-fn1',
      status: 'failed',
      reason: 'rejected at source: fn1: unknown language "cobol" (available: node20, python3)',
      image: null,
      started_at: null,
      log_ref: null,
      delivery_id: 'delivery-1',
    });
  });
});

describe('builds read model', () => {
  it('runs from its first event, and records the result with its duration and log', () =>
    given(buildsProjection, started('b1'), succeeded('b1')).then('b1', {
      status: 'succeeded',
      duration_ms: 1200,
      log_ref: 'b1',
      builder: 'local',
      function_name: 'alexellis-fn1',
    }));

  it('is reused in no time, pointing at the build it reuses', () =>
    given(buildsProjection, recorded({ type: 'BuildReused', data: { ...ref('b2'), image: 'img', reusedBuildId: 'b1' } })).then('b2', {
      status: 'reused',
      duration_ms: 0,
      reused_build_id: 'b1',
      image: 'img',
    }));

  it('is failed with its reason, or superseded by the newer commit', () => {
    given(buildsProjection, started('b1'), failed('b1')).then('b1', { status: 'failed', reason: 'npm install exited 1' });
    given(buildsProjection, started('b1'), succeeded('b1'), superseded('b1', sha('a'), sha('c'))).then('b1', {
      status: 'superseded',
      superseded_by: sha('c'),
    });
  });

  it('sorts by the position of its first event', () => {
    const first = started('b1');
    expect(given(buildsProjection, first, succeeded('b1')).row('b1')!.seq).toBe(first.metadata.globalPosition);
  });
});

describe('pushes read model', () => {
  const received = (deliveryId = 'delivery-1', isPrivate = false) =>
    recorded({
      type: 'PushReceived',
      data: {
        deliveryId,
        owner: 'alexellis',
        ownerId: 1,
        repo: 'fns',
        repositoryId: 2,
        private: isPrivate,
        ref: 'refs/heads/main',
        branch: 'main',
        before: sha('0'),
        sha: sha('a'),
        cloneUrl: 'https://github.com/alexellis/fns.git',
        installationId: null,
        pusher: 'alexellis',
        receivedAt: '2026-11-30T12:00:00.000Z',
      },
    });
  const stackStatus = (state: 'pending' | 'success' | 'failure', description: string, detail: string | null = null) =>
    recorded({
      type: 'CommitStatusReported',
      data: {
        owner: 'alexellis',
        repo: 'fns',
        sha: sha('a'),
        context: 'stack-deploy',
        state,
        description,
        detail,
        targetUrl: null,
        delivered: true,
      },
    });

  it('is pending until the stack-deploy status settles it', () => {
    given(pushesProjection, received(), stackStatus('pending', 'building 2 function(s)')).then('delivery-1', {
      outcome: 'pending',
      ref: 'refs/heads/main',
    });
    given(pushesProjection, received(), stackStatus('success', 'stack is successfully deployed')).then('delivery-1', {
      outcome: 'deployed',
      reason: null,
    });
    given(pushesProjection, received(), stackStatus('failure', '1 of 2 function(s) failed')).then('delivery-1', {
      outcome: 'failed',
      reason: '1 of 2 function(s) failed',
    });
  });

  it('keeps the whole outcome when the status description had to be cut, naming each failed function', () => {
    const whole = `2 of 3 function(s) failed: fn2: unknown language "cobol" (available: ${'node20, '.repeat(20)}python3); fn3: build failed: E404`;
    given(pushesProjection, received(), stackStatus('failure', `${whole.slice(0, 139)}…`, whole)).then('delivery-1', {
      outcome: 'failed',
      reason: whole,
    });
  });

  it('ends the same whichever stream Kafka delivers first', () => {
    const push = received();
    const status = stackStatus('success', 'stack is successfully deployed');
    expect(given(pushesProjection, status, push).row('delivery-1')).toEqual(given(pushesProjection, push, status).row('delivery-1'));
  });

  it('records whether the repository was private at the push; an ignored push does not say', () => {
    given(pushesProjection, received()).then('delivery-1', { private: false });
    given(pushesProjection, received('d3', true)).then('d3', { private: true });
    given(
      pushesProjection,
      recorded({
        type: 'PushIgnored',
        data: { deliveryId: 'd2', owner: 'alexellis', repo: 'fns', ref: 'refs/tags/v1', sha: sha('b'), reason: 'a tag' },
      }),
    ).then('d2', { private: null });
  });

  it('ignores function statuses, and records an ignored push with its reason', () => {
    const fnStatus = recorded({
      type: 'CommitStatusReported',
      data: {
        owner: 'alexellis',
        repo: 'fns',
        sha: sha('a'),
        context: 'alexellis-fn1',
        state: 'failure',
        description: 'x',
        detail: null,
        targetUrl: null,
        delivered: true,
      },
    });
    given(pushesProjection, fnStatus).thenNone();
    given(
      pushesProjection,
      recorded({
        type: 'PushIgnored',
        data: {
          deliveryId: 'd2',
          owner: 'alexellis',
          repo: 'fns',
          ref: 'refs/heads/dev',
          sha: sha('b'),
          reason: 'skipping build for: refs/heads/dev',
        },
      }),
    ).then('d2', {
      outcome: 'ignored',
      reason: 'skipping build for: refs/heads/dev',
      branch: 'dev',
    });
  });
});
