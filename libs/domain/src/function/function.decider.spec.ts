import { describe, expect, it } from '@jest/globals';
import { specFor } from '../spec.js';
import type { FunctionEvent } from '../events.js';
import { functionDecider, gatewayRefusal, type FunctionCommand } from './function.decider.js';
import { fn1Deployment, functionSpec, pushContext, rolledBackData } from '../spec-fixtures.js';

const given = specFor(functionDecider);
const ref = (buildId: string, contextDigest = 'sha256:aaa', sha = 'a'.repeat(40)) => ({
  buildId,
  name: 'alexellis-fn1',
  owner: 'alexellis',
  repo: 'fns',
  sha,
  contextDigest,
});
/** alexellis (GitHub id 1) pushing from fns (id 2). */
const ids = { ownerId: 1, repositoryId: 2 };
const startBuild = (buildId: string, contextDigest?: string): FunctionCommand => ({
  type: 'StartBuild',
  data: { ...ref(buildId, contextDigest), ...ids },
});
const started = (buildId: string, digest?: string): FunctionEvent => ({ type: 'BuildStarted', data: ref(buildId, digest) });
const succeeded = (buildId: string, image: string, digest?: string): FunctionEvent => ({
  type: 'BuildSucceeded',
  data: { ...ref(buildId, digest), image, imageDigest: null, builder: 'local', durationMs: 10, logRef: buildId, logTail: '' },
});
const deployed = (pushSequence: number, sha: string): FunctionEvent => ({
  type: 'FunctionDeployed',
  data: fn1Deployment(pushSequence, sha),
});
const deploy = (pushSequence: number, sha: string, newest = pushSequence, newestSha = sha): FunctionCommand => ({
  type: 'Deploy',
  data: { ...fn1Deployment(pushSequence, sha), contextDigest: 'sha256:aaa', newestPushSequence: newest, newestSha },
});
const superseded = (pushSequence: number, sha: string, by: string): FunctionEvent => ({
  type: 'BuildSuperseded',
  data: {
    buildId: `b-${pushSequence}`,
    name: 'alexellis-fn1',
    owner: 'alexellis',
    repo: 'fns',
    sha,
    contextDigest: 'sha256:aaa',
    image: `img:${sha}`,
    supersededBy: by,
  },
});

describe('function decider', () => {
  it('builds a context it has never built', () => given().when(startBuild('b1')).then(started('b1')));

  it('reuses the image of an earlier successful build with the same context digest', () =>
    given(started('b1'), succeeded('b1', 'reg/fn1:1'))
      .when(startBuild('b2'))
      .then({ type: 'BuildReused', data: { ...ref('b2'), image: 'reg/fn1:1', reusedBuildId: 'b1' } }));

  it('builds again when the digest changed, or when the earlier build failed', () => {
    given(started('b1'), succeeded('b1', 'reg/fn1:1')).when(startBuild('b2', 'sha256:bbb')).then(started('b2', 'sha256:bbb'));
    given(started('b1'), { type: 'BuildFailed', data: { ...ref('b1'), reason: 'x', durationMs: 1, logRef: 'b1', logTail: '' } })
      .when(startBuild('b2'))
      .then(started('b2'));
  });

  it('deploys the newest push', () => given(deployed(1, 'a')).when(deploy(2, 'b')).then(deployed(2, 'b')));

  it('never deploys a build whose push is older than the newest accepted push on the branch', () =>
    given()
      .when(deploy(1, 'a', 2, 'b'))
      .then(superseded(1, 'a', 'b')));

  it('never replaces a deploy of a later push, however late the older build finishes', () =>
    given(deployed(2, 'b'))
      .when(deploy(1, 'a'))
      .then(superseded(1, 'a', 'b')));

  it('records a deploy the gateway took before its process died, though a newer push arrived since', () => {
    const tookEarlier = { contextDigest: 'sha256:aaa', newestPushSequence: 3, newestSha: 'c', tookEarlier: true };
    given(deployed(1, 'a'))
      .when({ type: 'Deploy', data: { ...fn1Deployment(2, 'b'), ...tookEarlier } })
      .then(deployed(2, 'b'));
  });

  describe('a deployed name belongs to the GitHub owner and repository that deployed it', () => {
    const refusal = (from: { owner?: string; repo?: string }, reason: string, buildId = 'b-1', sha = 'b'): FunctionEvent => ({
      type: 'DeployFailed',
      data: { name: 'alexellis-fn1', owner: from.owner ?? 'alexellis', repo: from.repo ?? 'fns', sha, buildId, reason },
    });
    type From = { owner?: string; repo?: string; ownerId?: number; repositoryId?: number };
    const deployFrom = (from: From): FunctionCommand => ({
      type: 'Deploy',
      data: { ...fn1Deployment(1, 'b'), ...from, contextDigest: 'sha256:aaa', newestPushSequence: 1, newestSha: 'b' },
    });
    const startFrom = (from: From): FunctionCommand => ({
      type: 'StartBuild',
      data: { ...ref('b-1', 'sha256:aaa', 'b'), ...ids, ...from },
    });
    const sameOwner = 'function name alexellis-fn1 is already deployed from alexellis/fns: rename the function in stack.yml';
    const otherOwner = 'function name alexellis-fn1 belongs to GitHub owner alexellis: rename the function in stack.yml';

    it('refuses a deploy from another owner whose login makes the same name (victim + x-api, victim-x + api)', () =>
      given(deployed(5, 'a'))
        .when(deployFrom({ owner: 'alexellis-x', ownerId: 9 }))
        .then(refusal({ owner: 'alexellis-x' }, otherOwner)));

    it('refuses a deploy from another repository of the same owner, naming that repository', () =>
      given(deployed(5, 'a'))
        .when(deployFrom({ repo: 'other', repositoryId: 3 }))
        .then(refusal({ repo: 'other' }, sameOwner)));

    it('refuses before building: another owner’s push is not even built', () =>
      given(deployed(5, 'a'))
        .when(startFrom({ owner: 'alexellis-x', ownerId: 9 }))
        .then(refusal({ owner: 'alexellis-x' }, otherOwner)));

    it('refuses before reusing an image: another repository gets no build and no deploy', () =>
      given(started('b1'), succeeded('b1', 'reg/fn1:1'), deployed(5, 'a'))
        .when(startFrom({ repo: 'other', repositoryId: 3 }))
        .then(refusal({ repo: 'other' }, sameOwner)));

    it('compares ids, not names: a renamed repository (or owner) keeps its functions', () =>
      // The renamed repository's stream starts again at push 1: not older than push 5 of the old name.
      given(deployed(5, 'a'))
        .when(deployFrom({ owner: 'AlexEllis2', repo: 'functions' }))
        .then({
          type: 'FunctionDeployed',
          data: { ...fn1Deployment(1, 'b'), owner: 'AlexEllis2', repo: 'functions' },
        }));

    it('lets anyone take a name once its function was removed', () =>
      given(deployed(5, 'a'), {
        type: 'FunctionRemoved',
        data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'repository-removed' },
      })
        .when(startFrom({ owner: 'alexellis-x', ownerId: 9, repositoryId: 10 }))
        .then({ type: 'BuildStarted', data: { ...ref('b-1', 'sha256:aaa', 'b'), owner: 'alexellis-x' } }));

    describe('a deploy recorded before ids were (FunctionDeployed v1, upcast with null ids)', () => {
      const legacy: FunctionEvent = { type: 'FunctionDeployed', data: { ...fn1Deployment(5, 'a'), ownerId: null, repositoryId: null } };

      it('is compared by owner and repository name, as before', () => given(legacy).when(deploy(6, 'b')).then(deployed(6, 'b')));

      it('still refuses another owner or another repository by name', () => {
        given(legacy)
          .when(startFrom({ owner: 'alexellis-x', ownerId: 1 }))
          .then(refusal({ owner: 'alexellis-x' }, otherOwner));
        given(legacy)
          .when(deployFrom({ repo: 'other' }))
          .then(refusal({ repo: 'other' }, sameOwner));
      });
    });
  });

  it('records a failure reason without the server’s paths', () => {
    const failure = { ...ref('b1'), durationMs: 1, logRef: 'b1', logTail: '' };
    given(started('b1'))
      .when({ type: 'FailBuild', data: { ...failure, reason: "EACCES: permission denied, open '/var/lib/faasline/data/images/x/index'" } })
      .then({ type: 'BuildFailed', data: { ...failure, reason: "EACCES: permission denied, open '…/index'" } });
    const deployFailure = { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', sha: 'a', buildId: 'b1' };
    given()
      .when({ type: 'FailDeploy', data: { ...deployFailure, reason: 'spawn /opt/faasline/node_modules/.bin/x ENOENT' } })
      .then({ type: 'DeployFailed', data: { ...deployFailure, reason: 'spawn …/x ENOENT' } });
    // It is the function's commit status too: GitHub refuses one over 140 characters.
    given()
      .when({ type: 'FailDeploy', data: { ...deployFailure, reason: `gateway answered 500: ${'x'.repeat(200)}` } })
      .then({ type: 'DeployFailed', data: { ...deployFailure, reason: `gateway answered 500: ${'x'.repeat(117)}…` } });
  });

  describe('the gateway must be able to run a deploy the decider allowed', () => {
    const alexellis = { owner: 'alexellis', ownerId: 1 };
    const mounting = (owner: string, ownerId: number, secrets: string[]) => ({
      name: `${owner}-x`,
      labels: {
        'com.openfaas.cloud.git-cloud': '1',
        'com.openfaas.cloud.git-owner': owner,
        'com.openfaas.cloud.git-owner-id': String(ownerId),
      },
      secrets,
    });

    it('needs a gateway, naming the setting', () =>
      expect(gatewayRefusal(null, [], alexellis)).toBe('no OpenFaaS gateway to deploy to: set OPENFAAS_URL'));

    it('needs every secret the function mounts, saying how to create the missing one', () =>
      expect(gatewayRefusal({ secrets: ['alexellis-db'], live: [] }, ['alexellis-db', 'alexellis-key'], alexellis)).toBe(
        'secret alexellis-key is missing: seal it into secrets.yml (faasline seal key) or faasline secret set key',
      ));

    it("refuses a secret another owner's function mounts (alexellis-x + db and alexellis + x-db are both alexellis-x-db)", () =>
      expect(
        gatewayRefusal(
          { secrets: ['alexellis-x-db'], live: [mounting('alexellis-x', 9, ['alexellis-x-db'])] },
          ['alexellis-x-db'],
          alexellis,
        ),
      ).toBe('secret alexellis-x-db is used by GitHub owner alexellis-x: rename the secret in stack.yml'));

    it('takes a function with secrets the gateway holds and only its owner mounts, or with none', () => {
      expect(
        gatewayRefusal({ secrets: ['alexellis-db'], live: [mounting('alexellis', 1, ['alexellis-db'])] }, ['alexellis-db'], alexellis),
      ).toBeNull();
      expect(gatewayRefusal({ secrets: [], live: [] }, [], alexellis)).toBeNull();
    });
  });

  it('records a function refused at source, and lets the next push build it', () => {
    const rejected = {
      name: 'alexellis-fn1',
      owner: 'alexellis',
      repo: 'fns',
      function: 'fn1',
      branch: 'master',
      sha: 'b'.repeat(40),
      deliveryId: 'd-2',
      reason: 'fn1: unknown language "cobol" (available: node20)',
    };
    given()
      .when({ type: 'Reject', data: { ...rejected, ...ids } })
      .then({ type: 'FunctionRejected', data: rejected });
    given({ type: 'FunctionRejected', data: rejected }).when(startBuild('b1')).then(started('b1'));
  });

  it('records nothing on the stream of a name another owner holds', () =>
    given(deployed(1, 'a'))
      .when({
        type: 'Reject',
        data: {
          name: 'alexellis-fn1',
          owner: 'alexellis',
          repo: 'other',
          function: 'fn1',
          branch: 'master',
          sha: 'b'.repeat(40),
          deliveryId: 'd-2',
          reason: 'fn1: bad',
          ownerId: 1,
          repositoryId: 9,
        },
      })
      .thenNothing());

  it('removes a function once', () => {
    const removed = { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'not-in-stack' } as const;
    const removal: FunctionCommand = { type: 'Remove', data: { ...removed, pushSequence: 1 } };
    given(deployed(1, 'a')).when(removal).then({ type: 'FunctionRemoved', data: removed });
    given(deployed(1, 'a'), { type: 'FunctionRemoved', data: removed }).when(removal).thenNothing();
  });

  it('leaves a function a later push of its repository deployed, when an older push cleans up', () => {
    const removed = { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'not-in-stack' } as const;
    given(deployed(2, 'b'))
      .when({ type: 'Remove', data: { ...removed, pushSequence: 1 } })
      .thenNothing();
    given(deployed(2, 'b'), deployed(3, 'c'))
      .when({ type: 'Remove', data: { ...removed, pushSequence: 2 } })
      .thenNothing();
    // Push sequences count per repository: another repository's push numbers say nothing about this deploy.
    given(deployed(2, 'b'))
      .when({ type: 'Remove', data: { ...removed, repo: 'other', pushSequence: 1 } })
      .then({ type: 'FunctionRemoved', data: { ...removed, repo: 'other' } });
  });

  it('removes every function of a removed repository or an uninstalled App, whatever push deployed it', () => {
    const removed = { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'repository-removed' } as const;
    given(deployed(9, 'z'))
      .when({ type: 'Remove', data: { ...removed, pushSequence: null } })
      .then({ type: 'FunctionRemoved', data: removed });
  });
});

describe('function decider: fair share', () => {
  const withQuota = (command: FunctionCommand, deployedByOwner: number, max: number): FunctionCommand =>
    ({ ...command, data: { ...command.data, ownerQuota: { deployed: deployedByOwner, max } } }) as FunctionCommand;
  const refusedAtQuota = (sha: string, buildId: string): FunctionEvent => ({
    type: 'DeployFailed',
    data: {
      name: 'alexellis-fn1',
      owner: 'alexellis',
      repo: 'fns',
      sha,
      buildId,
      reason: 'alexellis already runs 3 functions, the most one owner may (MAX_FUNCTIONS_PER_OWNER): remove one first',
    },
  });

  it('refuses a new function of an owner that already runs the most functions it may, naming the setting', () =>
    given()
      .when(withQuota(deploy(1, 'a'), 3, 3))
      .then(refusedAtQuota('a', 'b-1')));

  it('deploys a new function while the owner is under its quota', () =>
    given()
      .when(withQuota(deploy(1, 'a'), 2, 3))
      .then(deployed(1, 'a')));

  it('always lets an owner at its quota update a function it runs', () =>
    given(deployed(1, 'a'))
      .when(withQuota(deploy(2, 'b'), 3, 3))
      .then(deployed(2, 'b')));

  it('counts a removed function as new again', () =>
    given(deployed(1, 'a'), {
      type: 'FunctionRemoved',
      data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'not-in-stack' },
    })
      .when(withQuota(deploy(2, 'b'), 3, 3))
      .then(refusedAtQuota('b', 'b-2')));

  it('says superseded rather than over quota when a newer push exists: nothing of the older push would deploy anyway', () =>
    given()
      .when(withQuota(deploy(1, 'a', 2, 'b'), 3, 3))
      .then(superseded(1, 'a', 'b')));

  it('builds again instead of reusing an image the builder no longer holds', () =>
    given(started('b1'), succeeded('b1', 'reg/fn1:1'))
      .when({ type: 'StartBuild', data: { ...ref('b2'), ...ids, goneImages: ['reg/fn1:1'] } })
      .then(started('b2')));

  it('still reuses an image when only other images are gone', () =>
    given(started('b1'), succeeded('b1', 'reg/fn1:1'))
      .when({ type: 'StartBuild', data: { ...ref('b2'), ...ids, goneImages: ['reg/fn1:0'] } })
      .then({ type: 'BuildReused', data: { ...ref('b2'), image: 'reg/fn1:1', reusedBuildId: 'b1' } }));
});

describe('function decider: rollback', () => {
  const pushOf = (pushSequence: number, sha: string) => pushContext(sha, { deliveryId: `d-${pushSequence}`, pushSequence });
  const specOf = (sha: string) => functionSpec('fn1', { handler: './fn1', image: `img:${sha}`, contextDigest: `sha256:${sha}` });
  const builtAt = (buildId: string, sha: string, repo = 'fns'): FunctionEvent => ({
    type: 'BuildSucceeded',
    data: {
      ...ref(buildId, `sha256:${sha}`, sha),
      repo,
      image: `img:${sha}`,
      imageDigest: null,
      builder: 'local',
      durationMs: 10,
      logRef: buildId,
      logTail: '',
    },
  });
  /** Push n of commit `sha` built `b-n` (image `img:<sha>`) and deployed it. */
  const pushed = (n: number, sha: string): FunctionEvent[] => [
    started(`b-${n}`, `sha256:${sha}`),
    builtAt(`b-${n}`, sha),
    deployed(n, sha),
  ];
  const rollBack = (buildId: string, sha: string, n: number, extra: { newest?: number; gone?: string[] } = {}): FunctionCommand => ({
    type: 'RollBack',
    data: {
      name: 'alexellis-fn1',
      buildId,
      reason: 'v2 answers 500',
      newestPushSequence: extra.newest ?? 2,
      goneImages: extra.gone ?? [],
      push: pushOf(n, sha),
      spec: specOf(sha),
    },
  });
  const rolledBack = (newest = 2): FunctionEvent => ({
    type: 'FunctionRolledBack',
    data: rolledBackData('b', 'a', { holdsThroughPush: newest, push: pushOf(1, 'a'), spec: specOf('a') }),
  });
  const deployRollback: FunctionCommand = { type: 'DeployRollback', data: fn1Deployment(1, 'a') };
  const v1v2 = [...pushed(1, 'a'), ...pushed(2, 'b')];

  it('records a rollback to an earlier successful build, saying what ran before, who asked why and which pushes it holds against', () =>
    given(...v1v2)
      .when(rollBack('b-1', 'a', 1))
      .then(rolledBack()));

  it('then deploys that build', () =>
    given(...v1v2, rolledBack())
      .when(deployRollback)
      .then(deployed(1, 'a')));

  it('asked twice before its deploy, records it once', () =>
    given(...v1v2, rolledBack())
      .when(rollBack('b-1', 'a', 1))
      .thenNothing());

  it('refuses an unknown function or build, a failed or unfinished build, and the image already running', () => {
    given()
      .when(rollBack('b-1', 'a', 1))
      .thenRefuses('not-found', 'no function alexellis-fn1');
    given(...v1v2)
      .when(rollBack('b-9', 'a', 1))
      .thenRefuses('not-found', 'no build of alexellis-fn1 at build b-9');
    const failed: FunctionEvent = { type: 'BuildFailed', data: { ...ref('b-3'), reason: 'x', durationMs: 1, logRef: 'b-3', logTail: '' } };
    given(...v1v2, started('b-3'), failed)
      .when(rollBack('b-3', 'a', 3))
      .thenRefuses('conflict', 'build b-3 of alexellis-fn1 (aaaaaaa) failed: only a successful build can take over again');
    given(...v1v2, started('b-3'))
      .when(rollBack('b-3', 'a', 3))
      .thenRefuses('conflict', 'build b-3 of alexellis-fn1 (aaaaaaa) has not finished');
    given(...v1v2)
      .when(rollBack('b-2', 'b', 2))
      .thenRefuses('conflict', 'alexellis-fn1 already runs the image of build b-2 of alexellis-fn1 (b)');
  });

  it('refuses a build whose image the builder no longer holds, saying how to get it back', () =>
    given(...v1v2)
      .when(rollBack('b-1', 'a', 1, { gone: ['img:a'] }))
      .thenRefuses(
        'conflict',
        'the image of build b-1 of alexellis-fn1 (a) is gone from the builder: push that commit again to rebuild it',
      ));

  it('refuses a function never deployed or removed since', () => {
    given(started('b-1'))
      .when(rollBack('b-1', 'a', 1))
      .thenRefuses('conflict', 'alexellis-fn1 has never been deployed: there is nothing to roll back');
    const removed: FunctionEvent = {
      type: 'FunctionRemoved',
      data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'deleted' },
    };
    given(...v1v2, removed)
      .when(rollBack('b-1', 'a', 1))
      .thenRefuses('conflict', 'alexellis-fn1 was removed: push its stack again to bring it back');
  });

  it('never goes back to a build of another repository that raced for the name', () =>
    given(builtAt('b-x', 'x', 'other'), ...v1v2)
      .when(rollBack('b-x', 'a', 1))
      .thenRefuses('conflict', 'build b-x of alexellis-fn1 (x) was not pushed from alexellis/fns, where alexellis-fn1 is deployed from'));

  describe('racing pushes: the stream decides', () => {
    it('a push received before the rollback never replaces it, however late its build finishes', () =>
      given(...v1v2, rolledBack(3))
        .when(deploy(3, 'c'))
        .then(superseded(3, 'c', 'a')));

    it('the next push deploys normally, and then the rollback it overtook deploys nothing', () => {
      given(...v1v2, rolledBack())
        .when(deploy(3, 'c'))
        .then(deployed(3, 'c'));
      given(...v1v2, rolledBack(), deployed(3, 'c'))
        .when(deployRollback)
        .thenNothing();
    });

    it('the clean-up of a push received before the rollback leaves the function alone', () =>
      given(...v1v2, rolledBack(), deployed(1, 'a'))
        .when({ type: 'Remove', data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'not-in-stack', pushSequence: 2 } })
        .thenNothing());
  });
});

describe('function decider: delete', () => {
  const del: FunctionCommand = { type: 'Delete', data: { name: 'alexellis-fn1', note: 'not needed' } };
  const deleted: FunctionEvent = {
    type: 'FunctionRemoved',
    data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'deleted', note: 'not needed' },
  };

  it('records the deletion of a deployed function, with the words of whoever asked', () => given(deployed(1, 'a')).when(del).then(deleted));

  it('deletes a function that never deployed too (its failed builds leave it listed)', () => given(started('b1')).when(del).then(deleted));

  it('refuses an unknown function, and deletes once', () => {
    given().when(del).thenRefuses('not-found', 'no function alexellis-fn1');
    given(deployed(1, 'a'), deleted).when(del).thenNothing();
  });

  it('lets a later push of the same stack bring it back, reusing its unchanged image', () => {
    given(started('b1'), succeeded('b1', 'reg/fn1:1'), deployed(1, 'a'), deleted)
      .when(startBuild('b2'))
      .then({ type: 'BuildReused', data: { ...ref('b2'), image: 'reg/fn1:1', reusedBuildId: 'b1' } });
    given(deployed(1, 'a'), deleted).when(deploy(2, 'b')).then(deployed(2, 'b'));
  });
});

describe('function decider: a deploy that never became ready', () => {
  const push = pushContext('a'.repeat(40));
  const failure = {
    name: 'alexellis-fn1',
    owner: 'alexellis',
    repo: 'fns',
    sha: 'b'.repeat(40),
    buildId: 'b-2',
    reason: 'not ready after 2m',
  };
  const rollback = {
    buildId: 'b-1',
    sha: 'a'.repeat(40),
    image: `img:${'a'.repeat(40)}`,
    push,
    spec: functionSpec('fn1'),
    failed: { image: `img:${'b'.repeat(40)}`, pushSequence: 2 },
  };
  const logs = ['Error: boom'];

  it('fails with its log lines and goes back to the version that ran, held against the failed push only', () =>
    given(deployed(1, 'a'.repeat(40)))
      .when({ type: 'FailDeploy', data: { ...failure, logs, rollback } })
      .then(
        {
          type: 'DeployFailed',
          data: { ...failure, logs, rolledBackTo: { buildId: 'b-1', sha: 'a'.repeat(40), image: `img:${'a'.repeat(40)}` } },
        },
        { type: 'FunctionRolledBack', data: rolledBackData('b'.repeat(40), 'a'.repeat(40), { reason: 'not ready after 2m', push }) },
      ));

  it('goes back to nothing when what it would go back to is no longer what runs (removed, or another deploy since)', () => {
    given(deployed(1, 'a'.repeat(40)), {
      type: 'FunctionRemoved',
      data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'deleted', note: null },
    })
      .when({ type: 'FailDeploy', data: { ...failure, logs, rollback } })
      .then({ type: 'DeployFailed', data: { ...failure, logs } });
    given(deployed(3, 'c'.repeat(40)))
      .when({ type: 'FailDeploy', data: { ...failure, logs, rollback } })
      .then({ type: 'DeployFailed', data: { ...failure, logs } });
  });

  it('records a first deploy that never became ready as failed, with nothing to go back to', () =>
    given()
      .when({ type: 'FailDeploy', data: { ...failure, logs, rollback: null } })
      .then({ type: 'DeployFailed', data: { ...failure, logs } }));
});

describe('function decider: unchanged means untouched', () => {
  /** Push n of a commit whose build reused image `img:same`, with the deployment digest `digest`. */
  const at = (n: number, digest: string | undefined, image = 'img:same') => ({
    ...fn1Deployment(n, `sha-${n}`),
    image,
    ...(digest === undefined ? {} : { deployment: digest }),
  });
  const wasDeployed = (n: number, digest: string | undefined, image?: string): FunctionEvent => ({
    type: 'FunctionDeployed',
    data: at(n, digest, image),
  });
  const deployAt = (n: number, digest: string | undefined, runningOnGateway = true, image?: string): FunctionCommand => ({
    type: 'Deploy',
    data: { ...at(n, digest, image), contextDigest: 'sha256:aaa', newestPushSequence: n, newestSha: `sha-${n}`, runningOnGateway },
  });

  it('records that the new commit carries the running function, and leaves the gateway alone', () =>
    given(wasDeployed(1, 'd1'))
      .when(deployAt(2, 'd1'))
      .then({ type: 'FunctionDeployed', data: { ...at(2, 'd1'), alreadyRunning: true } }));

  it('deploys when the image or the deployment changed', () => {
    given(wasDeployed(1, 'd1')).when(deployAt(2, 'd2')).then(wasDeployed(2, 'd2'));
    given(wasDeployed(1, 'd1'))
      .when(deployAt(2, 'd1', true, 'img:new'))
      .then(wasDeployed(2, 'd1', 'img:new'));
  });

  it('deploys when the gateway no longer runs it, whatever the events say', () =>
    given(wasDeployed(1, 'd1'))
      .when(deployAt(2, 'd1', false))
      .then(wasDeployed(2, 'd1')));

  it('deploys a function with secrets, or one deployed before the digest was kept (no digest to compare)', () => {
    given(wasDeployed(1, undefined)).when(deployAt(2, undefined)).then(wasDeployed(2, undefined));
    given(wasDeployed(1, undefined)).when(deployAt(2, 'd1')).then(wasDeployed(2, 'd1'));
  });

  it('deploys a removed function again, and a push after a rollback was asked', () => {
    const removed: FunctionEvent = {
      type: 'FunctionRemoved',
      data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'deleted', note: null },
    };
    given(wasDeployed(1, 'd1'), removed).when(deployAt(2, 'd1')).then(wasDeployed(2, 'd1'));
    const rolledBack: FunctionEvent = {
      type: 'FunctionRolledBack',
      data: {
        name: 'alexellis-fn1',
        owner: 'alexellis',
        repo: 'fns',
        buildId: 'b-0',
        sha: 'sha-0',
        image: 'img:old',
        fromBuildId: 'b-1',
        fromSha: 'sha-1',
        fromImage: 'img:same',
        reason: null,
        holdsThroughPush: 1,
        push: pushContext('sha-0', { deliveryId: 'd-0', pushSequence: 0 }),
        spec: functionSpec('fn1', { handler: './fn1', image: 'img:old', contextDigest: 'sha256:old' }),
      },
    };
    given(wasDeployed(1, 'd1'), rolledBack).when(deployAt(2, 'd1')).then(wasDeployed(2, 'd1'));
  });
});
