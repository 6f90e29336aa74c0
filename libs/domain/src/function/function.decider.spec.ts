import { describe, it } from '@jest/globals';
import { specFor } from '../spec.js';
import { functionDecider, type FunctionCommand, type FunctionEvent } from './function.decider.js';

const given = specFor(functionDecider);
const ref = (buildId: string, contextDigest = 'sha256:aaa', sha = 'a'.repeat(40)) => ({ buildId, name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', sha, contextDigest });
/** alexellis (GitHub id 1) pushing from fns (id 2). */
const ids = { ownerId: 1, repositoryId: 2 };
const startBuild = (buildId: string, contextDigest?: string): FunctionCommand => ({ type: 'StartBuild', data: { ...ref(buildId, contextDigest), ...ids } });
const started = (buildId: string, digest?: string): FunctionEvent => ({ type: 'BuildStarted', data: ref(buildId, digest) });
const succeeded = (buildId: string, image: string, digest?: string): FunctionEvent => ({
  type: 'BuildSucceeded',
  data: { ...ref(buildId, digest), image, imageDigest: null, builder: 'local', durationMs: 10, logRef: buildId, logTail: '' },
});
const deployment = (pushSequence: number, sha: string) => ({
  name: 'alexellis-fn1',
  owner: 'alexellis',
  repo: 'fns',
  function: 'fn1',
  branch: 'master',
  sha,
  image: `img:${sha}`,
  endpoint: 'http://gw/function/alexellis-fn1',
  deliveryId: `d-${pushSequence}`,
  buildId: `b-${pushSequence}`,
  pushSequence,
  ...ids,
});
const deployed = (pushSequence: number, sha: string): FunctionEvent => ({ type: 'FunctionDeployed', data: deployment(pushSequence, sha) });
const deploy = (pushSequence: number, sha: string, newest = pushSequence, newestSha = sha): FunctionCommand => ({
  type: 'Deploy',
  data: { ...deployment(pushSequence, sha), contextDigest: 'sha256:aaa', newestPushSequence: newest, newestSha },
});
const superseded = (pushSequence: number, sha: string, by: string): FunctionEvent => ({
  type: 'BuildSuperseded',
  data: { buildId: `b-${pushSequence}`, name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', sha, contextDigest: 'sha256:aaa', image: `img:${sha}`, supersededBy: by },
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
    given().when(deploy(1, 'a', 2, 'b')).then(superseded(1, 'a', 'b')));

  it('never replaces a deploy of a later push, however late the older build finishes', () =>
    given(deployed(2, 'b')).when(deploy(1, 'a')).then(superseded(1, 'a', 'b')));

  describe('a deployed name belongs to the GitHub owner and repository that deployed it', () => {
    const refusal = (from: { owner?: string; repo?: string }, reason: string, buildId = 'b-1', sha = 'b'): FunctionEvent => ({
      type: 'DeployFailed',
      data: { name: 'alexellis-fn1', owner: from.owner ?? 'alexellis', repo: from.repo ?? 'fns', sha, buildId, reason },
    });
    type From = { owner?: string; repo?: string; ownerId?: number; repositoryId?: number };
    const deployFrom = (from: From): FunctionCommand => ({
      type: 'Deploy',
      data: { ...deployment(1, 'b'), ...from, contextDigest: 'sha256:aaa', newestPushSequence: 1, newestSha: 'b' },
    });
    const startFrom = (from: From): FunctionCommand => ({
      type: 'StartBuild',
      data: { ...ref('b-1', 'sha256:aaa', 'b'), ...ids, ...from },
    });
    const sameOwner = 'function name alexellis-fn1 is already deployed from alexellis/fns: rename the function in stack.yml';
    const otherOwner = 'function name alexellis-fn1 belongs to GitHub owner alexellis: rename the function in stack.yml';

    it('refuses a deploy from another owner whose login makes the same name (victim + x-api, victim-x + api)', () =>
      given(deployed(5, 'a')).when(deployFrom({ owner: 'alexellis-x', ownerId: 9 })).then(refusal({ owner: 'alexellis-x' }, otherOwner)));

    it('refuses a deploy from another repository of the same owner, naming that repository', () =>
      given(deployed(5, 'a')).when(deployFrom({ repo: 'other', repositoryId: 3 })).then(refusal({ repo: 'other' }, sameOwner)));

    it('refuses before building: another owner’s push is not even built', () =>
      given(deployed(5, 'a')).when(startFrom({ owner: 'alexellis-x', ownerId: 9 })).then(refusal({ owner: 'alexellis-x' }, otherOwner)));

    it('refuses before reusing an image: another repository gets no build and no deploy', () =>
      given(started('b1'), succeeded('b1', 'reg/fn1:1'), deployed(5, 'a')).when(startFrom({ repo: 'other', repositoryId: 3 })).then(refusal({ repo: 'other' }, sameOwner)));

    it('compares ids, not names: a renamed repository (or owner) keeps its functions', () =>
      // The renamed repository's stream starts again at push 1: not older than push 5 of the old name.
      given(deployed(5, 'a')).when(deployFrom({ owner: 'AlexEllis2', repo: 'functions' })).then({
        type: 'FunctionDeployed',
        data: { ...deployment(1, 'b'), owner: 'AlexEllis2', repo: 'functions' },
      }));

    it('lets anyone take a name once its function was removed', () =>
      given(deployed(5, 'a'), { type: 'FunctionRemoved', data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'repository-removed' } })
        .when(startFrom({ owner: 'alexellis-x', ownerId: 9, repositoryId: 10 }))
        .then({ type: 'BuildStarted', data: { ...ref('b-1', 'sha256:aaa', 'b'), owner: 'alexellis-x' } }));

    describe('a deploy recorded before ids were (FunctionDeployed v1, upcast with null ids)', () => {
      const legacy: FunctionEvent = { type: 'FunctionDeployed', data: { ...deployment(5, 'a'), ownerId: null, repositoryId: null } };

      it('is compared by owner and repository name, as before', () =>
        given(legacy).when(deploy(6, 'b')).then(deployed(6, 'b')));

      it('still refuses another owner or another repository by name', () => {
        given(legacy).when(startFrom({ owner: 'alexellis-x', ownerId: 1 })).then(refusal({ owner: 'alexellis-x' }, otherOwner));
        given(legacy).when(deployFrom({ repo: 'other' })).then(refusal({ repo: 'other' }, sameOwner));
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
  });

  it('removes a function once', () => {
    const removal: FunctionCommand = { type: 'Remove', data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'not-in-stack' } };
    given(deployed(1, 'a')).when(removal).then({ type: 'FunctionRemoved', data: removal.data });
    given(deployed(1, 'a'), { type: 'FunctionRemoved', data: removal.data }).when(removal).thenNothing();
  });
});

describe('function decider: fair share', () => {
  const withQuota = (command: FunctionCommand, deployedByOwner: number, max: number): FunctionCommand =>
    ({ ...command, data: { ...command.data, ownerQuota: { deployed: deployedByOwner, max } } }) as FunctionCommand;

  it('refuses a new function of an owner that already runs the most functions it may, naming the setting', () =>
    given()
      .when(withQuota(deploy(1, 'a'), 3, 3))
      .then({
        type: 'DeployFailed',
        data: {
          name: 'alexellis-fn1',
          owner: 'alexellis',
          repo: 'fns',
          sha: 'a',
          buildId: 'b-1',
          reason: 'alexellis already runs 3 functions, the most one owner may (MAX_FUNCTIONS_PER_OWNER): remove one first',
        },
      }));

  it('deploys a new function while the owner is under its quota', () => given().when(withQuota(deploy(1, 'a'), 2, 3)).then(deployed(1, 'a')));

  it('always lets an owner at its quota update a function it runs', () => given(deployed(1, 'a')).when(withQuota(deploy(2, 'b'), 3, 3)).then(deployed(2, 'b')));

  it('counts a removed function as new again', () =>
    given(deployed(1, 'a'), { type: 'FunctionRemoved', data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'not-in-stack' } })
      .when(withQuota(deploy(2, 'b'), 3, 3))
      .then({
        type: 'DeployFailed',
        data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', sha: 'b', buildId: 'b-2', reason: 'alexellis already runs 3 functions, the most one owner may (MAX_FUNCTIONS_PER_OWNER): remove one first' },
      }));

  it('says superseded rather than over quota when a newer push exists: nothing of the older push would deploy anyway', () =>
    given().when(withQuota(deploy(1, 'a', 2, 'b'), 3, 3)).then(superseded(1, 'a', 'b')));

  it('builds again instead of reusing an image the builder no longer holds', () =>
    given(started('b1'), succeeded('b1', 'reg/fn1:1'))
      .when({ type: 'StartBuild', data: { ...ref('b2'), ...ids, goneImages: ['reg/fn1:1'] } })
      .then(started('b2')));

  it('still reuses an image when only other images are gone', () =>
    given(started('b1'), succeeded('b1', 'reg/fn1:1'))
      .when({ type: 'StartBuild', data: { ...ref('b2'), ...ids, goneImages: ['reg/fn1:0'] } })
      .then({ type: 'BuildReused', data: { ...ref('b2'), image: 'reg/fn1:1', reusedBuildId: 'b1' } }));
});
