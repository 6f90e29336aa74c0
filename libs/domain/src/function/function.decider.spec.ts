import { describe, it } from '@jest/globals';
import { specFor } from '../spec.js';
import { functionDecider, type FunctionCommand, type FunctionEvent } from './function.decider.js';

const given = specFor(functionDecider);
const ref = (buildId: string, contextDigest = 'sha256:aaa', sha = 'a'.repeat(40)) => ({ buildId, name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', sha, contextDigest });
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
  it('builds a context it has never built', () => given().when({ type: 'StartBuild', data: ref('b1') }).then(started('b1')));

  it('reuses the image of an earlier successful build with the same context digest', () =>
    given(started('b1'), succeeded('b1', 'reg/fn1:1'))
      .when({ type: 'StartBuild', data: ref('b2') })
      .then({ type: 'BuildReused', data: { ...ref('b2'), image: 'reg/fn1:1', reusedBuildId: 'b1' } }));

  it('builds again when the digest changed, or when the earlier build failed', () => {
    given(started('b1'), succeeded('b1', 'reg/fn1:1')).when({ type: 'StartBuild', data: ref('b2', 'sha256:bbb') }).then(started('b2', 'sha256:bbb'));
    given(started('b1'), { type: 'BuildFailed', data: { ...ref('b1'), reason: 'x', durationMs: 1, logRef: 'b1', logTail: '' } })
      .when({ type: 'StartBuild', data: ref('b2') })
      .then(started('b2'));
  });

  it('deploys the newest push', () => given(deployed(1, 'a')).when(deploy(2, 'b')).then(deployed(2, 'b')));

  it('never deploys a build whose push is older than the newest accepted push on the branch', () =>
    given().when(deploy(1, 'a', 2, 'b')).then(superseded(1, 'a', 'b')));

  it('never replaces a deploy of a later push, however late the older build finishes', () =>
    given(deployed(2, 'b')).when(deploy(1, 'a')).then(superseded(1, 'a', 'b')));

  it('does not let another repository of the owner take over a deployed function name', () =>
    given(deployed(5, 'a'))
      .when({ type: 'Deploy', data: { ...deployment(1, 'b'), repo: 'other', contextDigest: 'sha256:aaa', newestPushSequence: 1, newestSha: 'b' } })
      .then({
        type: 'DeployFailed',
        data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'other', sha: 'b', buildId: 'b-1', reason: 'function name alexellis-fn1 is already deployed from alexellis/fns: rename the function in stack.yml' },
      }));

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
      .when({ type: 'StartBuild', data: { ...ref('b2'), goneImages: ['reg/fn1:1'] } })
      .then(started('b2')));

  it('still reuses an image when only other images are gone', () =>
    given(started('b1'), succeeded('b1', 'reg/fn1:1'))
      .when({ type: 'StartBuild', data: { ...ref('b2'), goneImages: ['reg/fn1:0'] } })
      .then({ type: 'BuildReused', data: { ...ref('b2'), image: 'reg/fn1:1', reusedBuildId: 'b1' } }));
});
