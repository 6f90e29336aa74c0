import { describe, expect, it } from '@jest/globals';
import type { FaaslineEvent, FunctionSpec, RecordedEvent } from '../events.js';
import { decidePipeline, evolvePush, fairShareGroup, initialPushState, type PipelineCommand } from './pipeline.process.js';

let position = 0;
const recorded = (event: FaaslineEvent, streamVersion = 1): RecordedEvent<FaaslineEvent> =>
  ({
    ...event,
    metadata: {
      eventId: `e${++position}`,
      streamId: 's',
      streamVersion,
      globalPosition: position,
      occurredAt: '2026-11-25T00:00:00Z',
      correlationId: 'd-1',
      causationId: 'x',
      actor: 'system:test',
      schemaVersion: 1,
    },
  }) as RecordedEvent<FaaslineEvent>;

const push = recorded(
  {
    type: 'PushReceived',
    data: {
      deliveryId: 'd-1', owner: 'alexellis', ownerId: 1, repo: 'fns', repositoryId: 2, private: false, ref: 'refs/heads/master', branch: 'master',
      before: '0'.repeat(40), sha: 'a'.repeat(40), cloneUrl: 'https://github.com/alexellis/fns.git', installationId: 7, pusher: 'alexellis', receivedAt: 'now',
    },
  },
  3,
);
const spec = (fn: string): FunctionSpec => ({
  function: fn, name: `alexellis-${fn}`, lang: 'node20', handler: fn, image: `local/alexellis/fns-${fn}:latest-master-aaaaaaa`, fprocess: null,
  contextDigest: `sha256:${fn}`, contextBytes: 1, buildArgs: {}, environment: {}, labels: {}, annotations: {}, secrets: [], limits: {}, requests: {},
  readOnlyRootFilesystem: true, constraints: [],
});
const fetched = recorded({
  type: 'SourceFetched',
  data: { deliveryId: 'd-1', owner: 'alexellis', repo: 'fns', branch: 'master', sha: 'a'.repeat(40), stackFile: 'stack.yml', functions: [spec('fn1'), spec('fn2')], rejected: [] },
});
const ref = (fn: string) => ({ buildId: `b-${fn}`, name: `alexellis-${fn}`, owner: 'alexellis', repo: 'fns', sha: 'a'.repeat(40), contextDigest: `sha256:${fn}` });
const deployedEvent = (fn: string) =>
  recorded({
    type: 'FunctionDeployed',
    data: { name: `alexellis-${fn}`, owner: 'alexellis', repo: 'fns', function: fn, branch: 'master', sha: 'a'.repeat(40), image: 'i', endpoint: `http://gw/function/alexellis-${fn}`, deliveryId: 'd-1', buildId: `b-${fn}`, pushSequence: 3, ownerId: 1, repositoryId: 2 },
  });
const failedBuild = (fn: string) => recorded({ type: 'BuildFailed', data: { ...ref(fn), reason: 'exit 1', durationMs: 1, logRef: `b-${fn}`, logTail: 'exit 1' } });

const run = (history: RecordedEvent<FaaslineEvent>[], event: RecordedEvent<FaaslineEvent>): PipelineCommand[] =>
  decidePipeline(event, history.reduce(evolvePush, initialPushState()));
const types = (commands: PipelineCommand[]) => commands.map((c) => (c.type === 'ReportStatus' ? `${c.context}:${c.state}` : c.type === 'Build' || c.type === 'Deploy' ? `${c.type}:${c.spec.function}` : c.type));

describe('pipeline process', () => {
  it('reports pending and builds every function of a fetched stack', () =>
    expect(types(run([push], fetched))).toEqual(['stack-deploy:pending', 'Build:fn1', 'Build:fn2']));

  it('deploys what was built or reused, with the push it belongs to', () => {
    const commands = run([push, fetched], recorded({ type: 'BuildReused', data: { ...ref('fn1'), image: 'old', reusedBuildId: 'b0' } }));
    expect(commands).toEqual([expect.objectContaining({ type: 'Deploy', image: 'old', buildId: 'b-fn1', push: expect.objectContaining({ pushSequence: 3, sha: 'a'.repeat(40) }) })]);
  });

  it('reports each deploy and, when the last function lands, cleans up and reports the stack', () => {
    expect(types(run([push, fetched], deployedEvent('fn1')))).toEqual(['alexellis-fn1:success']);
    const last = run([push, fetched, deployedEvent('fn1')], deployedEvent('fn2'));
    expect(types(last)).toEqual(['alexellis-fn2:success', 'CollectGarbage', 'stack-deploy:success']);
    expect(last[1]).toEqual({ type: 'CollectGarbage', owner: 'alexellis', repo: 'fns', keep: ['alexellis-fn1', 'alexellis-fn2'], reason: 'not-in-stack', pushSequence: 3 });
  });

  it('links a failed build to its log and does not clean up after a failed push', () => {
    const last = run([push, fetched, deployedEvent('fn1')], failedBuild('fn2'));
    expect(types(last)).toEqual(['alexellis-fn2:failure', 'stack-deploy:failure']);
    expect(last[0]).toMatchObject({ link: { kind: 'log', buildId: 'b-fn2' }, description: 'build failed: exit 1' });
    expect(last[1]).toMatchObject({ description: '1 of 2 function(s) failed' });
  });

  it('fails a function refused before its build (name held by another owner) with the holder in its status, and the stack with it', () => {
    const reason = 'function name alexellis-fn2 belongs to GitHub owner alexell: rename the function in stack.yml';
    const refused = recorded({ type: 'DeployFailed', data: { name: 'alexellis-fn2', owner: 'alexellis', repo: 'fns', sha: 'a'.repeat(40), buildId: 'b-fn2', reason } });
    const last = run([push, fetched, deployedEvent('fn1')], refused);
    expect(last).toEqual([
      expect.objectContaining({ context: 'alexellis-fn2', state: 'failure', description: `deploy failed: ${reason}` }),
      expect.objectContaining({ context: 'stack-deploy', state: 'failure', description: '1 of 2 function(s) failed' }),
    ]);
  });

  it('reports a rejected source and rejected functions', () => {
    expect(run([push], recorded({ type: 'SourceRejected', data: { deliveryId: 'd-1', owner: 'alexellis', repo: 'fns', branch: 'master', sha: 'a'.repeat(40), reason: 'no stack.yml' } })))
      .toEqual([expect.objectContaining({ context: 'stack-deploy', state: 'failure', description: 'no stack.yml' })]);
    const partial = recorded({ type: 'SourceFetched', data: { ...(fetched.data as object), functions: [spec('fn1')], rejected: [{ function: 'Bad', name: 'alexellis-Bad', reason: 'bad name' }] } as never });
    expect(types(run([push], partial))).toEqual(['stack-deploy:pending', 'alexellis-Bad:failure', 'Build:fn1']);
  });

  it('removes the functions of a removed repository or an uninstalled App', () => {
    const removed = recorded({ type: 'RepositoryRemoved', data: { installationId: 7, owner: 'alexellis', repo: 'fns', repositoryId: 2, private: false } });
    expect(run([], removed)).toEqual([{ type: 'CollectGarbage', owner: 'alexellis', repo: 'fns', keep: [], reason: 'repository-removed', pushSequence: null }]);
    const uninstalled = recorded({
      type: 'InstallationDeleted',
      data: { installationId: 7, account: 'alexellis', accountId: 1, repositories: [{ owner: 'alexellis', repo: 'fns', repositoryId: 2, private: false }, { owner: 'alexellis', repo: 'api', repositoryId: 3, private: true }] },
    });
    expect(run([], uninstalled)).toEqual([
      { type: 'CollectGarbage', owner: 'alexellis', repo: 'fns', keep: [], reason: 'installation-deleted', pushSequence: null },
      { type: 'CollectGarbage', owner: 'alexellis', repo: 'api', keep: [], reason: 'installation-deleted', pushSequence: null },
    ]);
  });

  it('stays quiet when a later push of the same commit superseded it', () => {
    const sameCommit = recorded({ type: 'BuildSuperseded', data: { ...ref('fn2'), image: 'i', supersededBy: 'a'.repeat(40) } });
    expect(run([push, fetched, deployedEvent('fn1')], sameCommit)).toEqual([]);
  });

  it('settles a push once, even if an event arrives for a function already settled', () =>
    expect(run([push, fetched, deployedEvent('fn1'), deployedEvent('fn2')], deployedEvent('fn2'))).toHaveLength(1));
});

describe('fair share', () => {
  it("charges a push's builds and deploys to its owner, whatever the case of the login, and reports to nobody", () => {
    const commands = run([push], fetched);
    const build = commands.find((command) => command.type === 'Build')!;
    expect(fairShareGroup(build)).toBe('owner:alexellis');
    expect(fairShareGroup({ ...build, push: { ...(build as Extract<PipelineCommand, { type: 'Build' }>).push, owner: 'AlexEllis' } } as PipelineCommand)).toBe('owner:alexellis');
    const deploy = run([push, fetched], recorded({ type: 'BuildSucceeded', data: { ...ref('fn1'), image: 'i', imageDigest: null, builder: 'local', durationMs: 1, logRef: 'b', logTail: '' } }));
    expect(deploy.map(fairShareGroup)).toEqual(['owner:alexellis']);
    expect(commands.filter((command) => command.type === 'ReportStatus').map(fairShareGroup)).toEqual([null]);
  });
});
