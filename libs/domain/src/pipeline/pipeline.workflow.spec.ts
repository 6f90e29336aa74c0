import { describe, expect, it } from '@jest/globals';
import type { FaaslineEvent } from '../events.js';
import { workflowSpecFor } from '../spec.js';
import { buildRef, deployedData, fetchedData, functionSpec, pushData, recordedAt } from '../spec-fixtures.js';
import { PREVIEW_LABEL, previewLabel } from '../preview/preview.rules.js';
import { CLOUD_LABEL, type LiveFunction } from './deployment.js';
import {
  fairShareGroup,
  pipelineWorkflow,
  type CollectGarbage,
  type PipelineCommand,
  type PipelineCommandOf,
  type PipelineEvent,
} from './pipeline.workflow.js';

const given = workflowSpecFor(pipelineWorkflow);

const recorded = (event: FaaslineEvent, streamVersion = 1): PipelineEvent =>
  recordedAt(event, { streamVersion, occurredAt: '2026-11-25T00:00:00Z' }) as PipelineEvent;

const sha = 'a'.repeat(40);
const push = recorded({ type: 'PushReceived', data: pushData(sha) }, 3);
const spec = (fn: string) => functionSpec(fn);
const fetched = recorded({
  type: 'SourceFetched',
  data: fetchedData(sha, [spec('fn1'), spec('fn2')]),
});
const ref = (fn: string) => buildRef(fn, sha);
const deployedEvent = (fn: string) => recorded({ type: 'FunctionDeployed', data: deployedData(fn, sha) });
const failedBuild = (fn: string) =>
  recorded({ type: 'BuildFailed', data: { ...ref(fn), reason: 'exit 1', durationMs: 1, logRef: `b-${fn}`, logTail: 'exit 1' } });
const built = (fn: string) =>
  recorded({
    type: 'BuildSucceeded',
    data: { ...ref(fn), image: 'i', imageDigest: null, builder: 'local', durationMs: 1, logRef: 'b', logTail: '' },
  });

/** What each command is, in order: `<context>:<state>` for a status, `<command>:<function>` for a build or deploy. */
const types = (commands: PipelineCommand[]) =>
  commands.map((c) =>
    c.type === 'ReportStatus'
      ? `${c.context}:${c.state}`
      : c.type === 'Build' || c.type === 'Deploy'
        ? `${c.type}:${c.spec.function}`
        : c.type,
  );

describe('pipeline workflow: a push is fetched, built, deployed and reported', () => {
  it('fetches the source of every accepted push', () =>
    given()
      .when(push)
      .then({ type: 'FetchSource', push: push.data as never }));

  it('reports pending and builds every function of a fetched stack', () =>
    expect(types(given(push).when(fetched).commands())).toEqual(['stack-deploy:pending', 'Build:fn1', 'Build:fn2']));

  it('deploys what was built or reused, with the push it belongs to', () => {
    const commands = given(push, fetched)
      .when(recorded({ type: 'BuildReused', data: { ...ref('fn1'), image: 'old', reusedBuildId: 'b0' } }))
      .commands();
    expect(commands).toEqual([
      expect.objectContaining({ type: 'Deploy', image: 'old', buildId: 'b-fn1', push: expect.objectContaining({ pushSequence: 3, sha }) }),
    ]);
  });

  it('reports each deploy and, when the last function lands, cleans up and reports the stack', () => {
    expect(types(given(push, fetched).when(deployedEvent('fn1')).commands())).toEqual(['alexellis-fn1:success']);
    const last = given(push, fetched, deployedEvent('fn1')).when(deployedEvent('fn2')).commands();
    expect(types(last)).toEqual(['alexellis-fn2:success', 'CollectGarbage', 'stack-deploy:success']);
    expect(last[1]).toEqual({
      type: 'CollectGarbage',
      owner: 'alexellis',
      repo: 'fns',
      scope: { kind: 'production' },
      keep: ['alexellis-fn1', 'alexellis-fn2'],
      reason: 'not-in-stack',
      pushSequence: 3,
    });
  });

  it('links a failed build to its log and does not clean up after a failed push', () => {
    const last = given(push, fetched, deployedEvent('fn1')).when(failedBuild('fn2')).commands();
    expect(types(last)).toEqual(['alexellis-fn2:failure', 'stack-deploy:failure']);
    expect(last[0]).toMatchObject({ link: { kind: 'log', buildId: 'b-fn2' }, description: 'build failed: exit 1' });
    expect(last[1]).toMatchObject({ description: '1 of 2 function(s) failed: fn2: build failed: exit 1', detail: null });
  });

  it('fails a function refused before its build (name held by another owner) with the holder in its status, and the stack with it', () => {
    const reason = 'function name alexellis-fn2 belongs to GitHub owner alexell: rename the function in stack.yml';
    const refused = recorded({
      type: 'DeployFailed',
      data: { name: 'alexellis-fn2', owner: 'alexellis', repo: 'fns', sha, buildId: 'b-fn2', reason },
    });
    expect(given(push, fetched, deployedEvent('fn1')).when(refused).commands()).toEqual([
      expect.objectContaining({ context: 'alexellis-fn2', state: 'failure', description: `deploy failed: ${reason}` }),
      expect.objectContaining({
        context: 'stack-deploy',
        state: 'failure',
        description: `1 of 2 function(s) failed: fn2: deploy failed: ${reason}`,
      }),
    ]);
  });

  it('reports a rejected source and rejected functions', () => {
    expect(
      given(push)
        .when(
          recorded({
            type: 'SourceRejected',
            data: { deliveryId: 'd-1', owner: 'alexellis', repo: 'fns', branch: 'master', sha, reason: 'no stack.yml' },
          }),
        )
        .commands(),
    ).toEqual([expect.objectContaining({ context: 'stack-deploy', state: 'failure', description: 'no stack.yml' })]);
    const partial = recorded({
      type: 'SourceFetched',
      data: {
        ...(fetched.data as object),
        functions: [spec('fn1')],
        rejected: [{ function: 'Bad', name: 'alexellis-Bad', reason: 'bad name' }],
      } as never,
    });
    expect(types(given(push).when(partial).commands())).toEqual([
      'stack-deploy:pending',
      'alexellis-Bad:failure',
      'RejectFunction',
      'Build:fn1',
    ]);
  });

  it('fails the stack when no function of it can be built', () => {
    const none = recorded({
      type: 'SourceFetched',
      data: {
        ...(fetched.data as object),
        functions: [],
        rejected: [{ function: 'Bad', name: 'alexellis-Bad', reason: 'bad name' }],
      } as never,
    });
    expect(given(push).when(none).commands()).toEqual([
      expect.objectContaining({ context: 'stack-deploy', state: 'failure', description: 'no function can be built: bad name' }),
      expect.objectContaining({ context: 'alexellis-Bad', state: 'failure', description: 'bad name' }),
      expect.objectContaining({ type: 'RejectFunction', rejection: { function: 'Bad', name: 'alexellis-Bad', reason: 'bad name' } }),
    ]);
  });

  it('records each function refused at source on its own stream, with the push it came from', () => {
    const rejection = { function: 'fn3', name: 'alexellis-fn3', reason: 'fn3: unknown language "cobol" (available: node20)' };
    const partial = recorded({ type: 'SourceFetched', data: { ...(fetched.data as object), rejected: [rejection] } as never });
    const commands = given(push).when(partial).commands();
    expect(commands.filter((command) => command.type === 'RejectFunction')).toEqual([
      { type: 'RejectFunction', push: expect.objectContaining({ deliveryId: 'd-1', sha, ownerId: 1, repositoryId: 2 }), rejection },
    ]);
  });

  it('names each failed function and why in the stack status, rejected ones first', () => {
    const rejection = { function: 'fn3', name: 'alexellis-fn3', reason: 'fn3: unknown language "cobol" (available: node20)' };
    const partial = recorded({ type: 'SourceFetched', data: { ...(fetched.data as object), rejected: [rejection] } as never });
    const last = given(push, partial, deployedEvent('fn1')).when(failedBuild('fn2')).commands();
    expect(last.at(-1)).toMatchObject({
      context: 'stack-deploy',
      state: 'failure',
      description: '2 of 3 function(s) failed: fn3: unknown language "cobol" (available: node20); fn2: build failed: exit 1',
      detail: null,
    });
  });

  it('keeps the whole outcome beside a description cut to 140 characters', () => {
    const available = Array.from({ length: 12 }, (_, i) => `lang${i}`).join(', ');
    const rejection = { function: 'fn3', name: 'alexellis-fn3', reason: `fn3: unknown language "cobol" (available: ${available})` };
    const partial = recorded({ type: 'SourceFetched', data: { ...(fetched.data as object), rejected: [rejection] } as never });
    const last = given(push, partial, deployedEvent('fn1')).when(failedBuild('fn2')).commands().at(-1) as PipelineCommandOf<'ReportStatus'>;
    expect(last.description.length).toBeLessThanOrEqual(140);
    expect(last.description).toMatch(
      /^2 of 3 function\(s\) failed: fn3: unknown language "cobol" \(available: lang0, .*…; fn2: build failed: exit 1$/,
    );
    expect(last.detail).toBe(`2 of 3 function(s) failed: ${rejection.reason}; fn2: build failed: exit 1`);
  });

  it('names the failed functions of a push whose state was kept before reasons were', () => {
    const state = { ...pipelineWorkflow.evolve(pipelineWorkflow.evolve(pipelineWorkflow.initialState(), push), fetched), rejected: 1 };
    const { rejections: _gone, ...old } = state;
    const after = pipelineWorkflow.evolve(pipelineWorkflow.evolve(old, deployedEvent('fn1')), failedBuild('fn2'));
    expect(after.functions.map((fn) => fn.outcome)).toEqual(['deployed', 'failed']);
    const last = pipelineWorkflow.decide(failedBuild('fn2'), pipelineWorkflow.evolve(old, deployedEvent('fn1'))).at(-1);
    expect(last).toMatchObject({ description: '2 of 3 function(s) failed: rejected at source; fn2: build failed: exit 1' });
  });

  it('reports a build superseded by a newer commit, and the stack as not deployed', () => {
    const superseded = recorded({ type: 'BuildSuperseded', data: { ...ref('fn2'), image: 'i', supersededBy: 'b'.repeat(40) } });
    expect(given(push, fetched, deployedEvent('fn1')).when(superseded).commands()).toEqual([
      expect.objectContaining({ context: 'alexellis-fn2', state: 'failure', description: 'not deployed: superseded by bbbbbbb' }),
      expect.objectContaining({ context: 'stack-deploy', state: 'failure', description: 'not deployed: a newer push superseded this one' }),
    ]);
  });

  it('does nothing more once a refused function is recorded', () =>
    given(push, fetched)
      .when(
        recorded({
          type: 'FunctionRejected',
          data: {
            name: 'alexellis-x',
            owner: 'alexellis',
            repo: 'fns',
            function: 'x',
            branch: 'master',
            sha,
            deliveryId: 'd-1',
            reason: 'x: bad',
          },
        }),
      )
      .thenNothing());

  it('stays quiet when a later push of the same commit superseded it', () => {
    const sameCommit = recorded({ type: 'BuildSuperseded', data: { ...ref('fn2'), image: 'i', supersededBy: sha } });
    given(push, fetched, deployedEvent('fn1')).when(sameCommit).thenNothing();
  });

  it('settles a push once, even if an event arrives for a function already settled', () =>
    expect(given(push, fetched, deployedEvent('fn1'), deployedEvent('fn2')).when(deployedEvent('fn2')).commands()).toHaveLength(1));
});

describe('pipeline workflow: garbage collection', () => {
  it('removes the functions of a removed repository or an uninstalled App', () => {
    given()
      .when(
        recorded({
          type: 'RepositoryRemoved',
          data: { installationId: 7, owner: 'alexellis', repo: 'fns', repositoryId: 2, private: false },
        }),
      )
      .then({
        type: 'CollectGarbage',
        owner: 'alexellis',
        repo: 'fns',
        scope: { kind: 'all' },
        keep: [],
        reason: 'repository-removed',
        pushSequence: null,
      });
    const uninstalled = recorded({
      type: 'InstallationDeleted',
      data: {
        installationId: 7,
        account: 'alexellis',
        accountId: 1,
        repositories: [
          { owner: 'alexellis', repo: 'fns', repositoryId: 2, private: false },
          { owner: 'alexellis', repo: 'api', repositoryId: 3, private: true },
        ],
      },
    });
    given()
      .when(uninstalled)
      .then(
        {
          type: 'CollectGarbage',
          owner: 'alexellis',
          repo: 'fns',
          scope: { kind: 'all' },
          keep: [],
          reason: 'installation-deleted',
          pushSequence: null,
        },
        {
          type: 'CollectGarbage',
          owner: 'alexellis',
          repo: 'api',
          scope: { kind: 'all' },
          keep: [],
          reason: 'installation-deleted',
          pushSequence: null,
        },
      );
  });

  it('removes only what faasline deployed for the repository and the stack no longer declares', () => {
    const collect: CollectGarbage = {
      type: 'CollectGarbage',
      owner: 'alexellis',
      repo: 'fns',
      scope: { kind: 'production' },
      keep: ['alexellis-fn1'],
      reason: 'not-in-stack',
      pushSequence: 3,
    };
    const labels = (owner: string, repo: string) => ({
      [`${CLOUD_LABEL}git-cloud`]: '1',
      [`${CLOUD_LABEL}git-owner`]: owner,
      [`${CLOUD_LABEL}git-repo`]: repo,
    });
    const live: LiveFunction[] = [
      { name: 'alexellis-fn1', labels: labels('alexellis', 'fns') },
      { name: 'alexellis-old', labels: labels('AlexEllis', 'fns') },
      { name: 'alexellis-other', labels: labels('alexellis', 'api') },
      { name: 'someone-fn1', labels: labels('someone', 'fns') },
      { name: 'nodeinfo', labels: null },
    ];
    given()
      .when({ type: 'GarbageListed', data: { collect, live } })
      .then({ type: 'RemoveFunction', name: 'alexellis-old', owner: 'alexellis', repo: 'fns', reason: 'not-in-stack', pushSequence: 3 });
  });

  it('asks nothing more once a function is removed', () =>
    given(push, fetched)
      .when(recorded({ type: 'FunctionRemoved', data: { name: 'alexellis-old', owner: 'alexellis', repo: 'fns', reason: 'not-in-stack' } }))
      .thenNothing());
});

describe('pipeline workflow: rollback and delete, asked over the API', () => {
  const pushContext = {
    deliveryId: 'd-1',
    owner: 'alexellis',
    repo: 'fns',
    branch: 'master',
    sha,
    installationId: 7,
    pushSequence: 3,
    private: false,
    ownerId: 1,
    repositoryId: 2,
    cloneUrl: 'https://github.com/alexellis/fns.git',
  };

  it('deploys the build a recorded rollback goes back to, from the push and stack entry it was made from', () =>
    given()
      .when(
        recorded({
          type: 'FunctionRolledBack',
          data: {
            ...ref('fn1'),
            image: 'i-1',
            fromBuildId: 'b-2',
            fromSha: 'b'.repeat(40),
            fromImage: 'i-2',
            reason: null,
            holdsThroughPush: 4,
            push: pushContext,
            spec: spec('fn1'),
          },
        }),
      )
      .then({ type: 'Deploy', push: pushContext, spec: spec('fn1'), buildId: 'b-fn1', image: 'i-1', rollback: true }));

  it('removes a deleted function from the gateway once its deletion is recorded', () =>
    given()
      .when(recorded({ type: 'FunctionRemoved', data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'deleted' } }))
      .then({ type: 'RemoveFunction', name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', reason: 'deleted', pushSequence: null }));
});

describe('fair share', () => {
  it("charges a push's fetch, builds and deploys to its owner, whatever the case of the login, and reports to nobody", () => {
    const commands = given(push).when(fetched).commands();
    const build = commands.find((command) => command.type === 'Build')!;
    expect(fairShareGroup(build)).toBe('owner:alexellis');
    expect(
      fairShareGroup({ ...build, push: { ...(build as PipelineCommandOf<'Build'>).push, owner: 'AlexEllis' } } as PipelineCommand),
    ).toBe('owner:alexellis');
    expect(given(push, fetched).when(built('fn1')).commands().map(fairShareGroup)).toEqual(['owner:alexellis']);
    expect(commands.filter((command) => command.type === 'ReportStatus').map(fairShareGroup)).toEqual([null]);
    expect(given().when(push).commands().map(fairShareGroup)).toEqual(['owner:alexellis']);
  });
});

describe('pipeline workflow: branch previews', () => {
  const previewPush = recorded(
    { ...push, data: { ...push.data, ref: 'refs/heads/feature/x', branch: 'feature/x', preview: true } } as FaaslineEvent,
    4,
  );
  const labels = (branch: string | null, deployTime = '0') => ({
    [`${CLOUD_LABEL}git-cloud`]: '1',
    [`${CLOUD_LABEL}git-owner`]: 'alexellis',
    [`${CLOUD_LABEL}git-repo`]: 'fns',
    [`${CLOUD_LABEL}git-deploytime`]: deployTime,
    ...(branch === null ? {} : { [PREVIEW_LABEL]: previewLabel(branch) }),
  });
  const live: LiveFunction[] = [
    { name: 'alexellis-fn1', labels: labels(null) },
    { name: 'alexellis-old', labels: labels(null) },
    { name: 'alexellis-fn1-feature-x', labels: labels('feature/x') },
    { name: 'alexellis-old-feature-x', labels: labels('feature/x') },
    { name: 'alexellis-fn1-feature-y', labels: labels('feature/y') },
  ];
  const collect = (scope: CollectGarbage['scope'], keep: string[]): CollectGarbage => ({
    type: 'CollectGarbage',
    owner: 'alexellis',
    repo: 'fns',
    scope,
    keep,
    reason: 'not-in-stack',
    pushSequence: 4,
  });
  const removed = (commands: PipelineCommand[]) => commands.map((c) => (c.type === 'RemoveFunction' ? c.name : c.type));

  it('says on the stack status that a preview deployed, and collects only that branch’s previews', () => {
    const commands = given(previewPush, fetched, deployedEvent('fn1')).when(deployedEvent('fn2')).commands();
    expect(commands.find((c) => c.type === 'CollectGarbage')).toMatchObject({ scope: { kind: 'preview', branch: 'feature/x' } });
    expect(commands.find((c) => c.type === 'ReportStatus' && c.context === 'stack-deploy')).toMatchObject({
      state: 'success',
      description: 'preview of feature/x is successfully deployed',
    });
  });

  it('carries the preview mark to the build and deploy of each function', () => {
    const build = given(previewPush)
      .when(fetched)
      .commands()
      .find((c) => c.type === 'Build');
    expect(build).toMatchObject({ push: { preview: true, branch: 'feature/x' } });
  });

  it('a production push never removes previews', () =>
    expect(
      removed(
        given()
          .when({ type: 'GarbageListed', data: { collect: collect({ kind: 'production' }, ['alexellis-fn1']), live } })
          .commands(),
      ),
    ).toEqual(['alexellis-old']));

  it('a preview push removes only previews of its branch that its stack no longer declares, never production', () =>
    expect(
      removed(
        given()
          .when({
            type: 'GarbageListed',
            data: { collect: collect({ kind: 'preview', branch: 'feature/x' }, ['alexellis-fn1-feature-x']), live },
          })
          .commands(),
      ),
    ).toEqual(['alexellis-old-feature-x']));

  it('a deleted branch removes its previews', () => {
    const deletion = recorded({
      type: 'PushIgnored',
      data: {
        deliveryId: 'd-9',
        owner: 'alexellis',
        repo: 'fns',
        ref: 'refs/heads/feature/x',
        sha: '0'.repeat(40),
        reason: 'branch feature/x was deleted',
      },
    });
    given()
      .when(deletion)
      .then({
        type: 'CollectGarbage',
        owner: 'alexellis',
        repo: 'fns',
        scope: { kind: 'preview', branch: 'feature/x' },
        keep: [],
        reason: 'branch-deleted',
        pushSequence: null,
      });
    const collectAll = { ...collect({ kind: 'preview', branch: 'feature/x' }, []), reason: 'branch-deleted' as const };
    expect(
      removed(
        given()
          .when({ type: 'GarbageListed', data: { collect: collectAll, live } })
          .commands(),
      ),
    ).toEqual(['alexellis-fn1-feature-x', 'alexellis-old-feature-x']);
  });

  it('any other ignored push asks nothing', () =>
    given()
      .when(
        recorded({
          type: 'PushIgnored',
          data: { deliveryId: 'd-9', owner: 'alexellis', repo: 'fns', ref: 'refs/heads/dev', sha, reason: 'skipping build' },
        }),
      )
      .thenNothing());

  it('a removed repository takes its previews too', () =>
    expect(
      removed(
        given()
          .when({ type: 'GarbageListed', data: { collect: { ...collect({ kind: 'all' }, []), reason: 'repository-removed' }, live } })
          .commands(),
      ),
    ).toHaveLength(5));

  it('removes previews that saw no push for PREVIEW_TTL, with the reason preview-expired, unless a later push redeploys them', () => {
    const nowMs = 10_000_000;
    const listed = [
      { name: 'alexellis-fn1', labels: labels(null, '0') },
      { name: 'alexellis-fn1-feature-x', labels: labels('feature/x', '0') },
      { name: 'alexellis-fn1-feature-y', labels: labels('feature/y', String(nowMs / 1000)) },
    ];
    given()
      .when({ type: 'PreviewsListed', data: { live: listed, pushSequences: { 'alexellis-fn1-feature-x': 4 }, nowMs, ttlMs: 60_000 } })
      .then({
        type: 'RemoveFunction',
        name: 'alexellis-fn1-feature-x',
        owner: 'alexellis',
        repo: 'fns',
        reason: 'preview-expired',
        // The push it was deployed from: the function decider keeps it if a later push deployed it meanwhile.
        pushSequence: 4,
      });
  });
});

describe('pipeline workflow: a deploy that never became ready', () => {
  it('reports the failure only: the earlier version it went back to is not this push’s deploy', () => {
    const failed = recorded({
      type: 'DeployFailed',
      data: { ...ref('fn1'), reason: 'not ready after 2m (0 of 1 replica(s) available); back to ccccccc: Error: boom' },
    });
    expect(types(given(push, fetched, built('fn1')).when(failed).commands())).toEqual(['alexellis-fn1:failure']);
    const earlier = recorded({ type: 'FunctionDeployed', data: { ...deployedData('fn1', 'c'.repeat(40)), deliveryId: 'd-0' } });
    given(push, fetched, built('fn1'), failed).when(earlier).thenNothing();
    // Nor does it count as deployed when the push's last function settles.
    const last = given(push, fetched, built('fn1'), failed, earlier).when(deployedEvent('fn2')).commands();
    expect(last.at(-1)).toMatchObject({ context: 'stack-deploy', state: 'failure' });
  });
});
