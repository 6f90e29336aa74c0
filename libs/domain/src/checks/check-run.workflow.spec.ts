import { describe, expect, it } from '@jest/globals';
import type { FaaslineEvent } from '../events.js';
import { workflowSpecFor } from '../spec.js';
import { buildRef, deployedData, fetchedData, functionSpec, pushData, recordedAt } from '../spec-fixtures.js';
import {
  checkRunWorkflow,
  MAX_ANNOTATIONS_PER_REQUEST,
  MAX_CHECK_SUMMARY,
  redactedTail,
  type CheckRunInput,
  type ReportCheckRun,
} from './check-run.workflow.js';

const given = workflowSpecFor(checkRunWorkflow);

const recorded = (event: FaaslineEvent): CheckRunInput => recordedAt(event, { occurredAt: '2026-12-01T08:00:00Z' }) as CheckRunInput;

const sha = 'a'.repeat(40);
const push = recorded({ type: 'PushReceived', data: pushData(sha, { receivedAt: '2026-12-01T07:59:00Z' }) });
const fetched = (functions: string[], rejected: { function: string; name: string; reason: string }[] = []) =>
  recorded({
    type: 'SourceFetched',
    data: fetchedData(
      sha,
      functions.map((fn) => functionSpec(fn)),
      { rejected },
    ),
  });
const ref = (fn: string) => buildRef(fn, sha);
const built = (fn: string) =>
  recorded({
    type: 'BuildSucceeded',
    data: { ...ref(fn), image: 'i', imageDigest: null, builder: 'local', durationMs: 1500, logRef: 'b', logTail: '' },
  });
const deployed = (fn: string) => recorded({ type: 'FunctionDeployed', data: deployedData(fn, sha) });
const failedBuild = (fn: string, logTail = 'npm ERR! code E404\nnpm ERR! 404 Not Found - left-pad-nope') =>
  recorded({
    type: 'BuildFailed',
    data: { ...ref(fn), reason: 'npm ERR! code E404', durationMs: 2000, logRef: `b-${fn}`, logTail },
  });

const base = {
  type: 'ReportCheckRun',
  owner: 'alexellis',
  repo: 'fns',
  sha,
  installationId: 7,
  deliveryId: 'd-1',
  name: 'faasline',
  startedAt: '2026-12-01T07:59:00Z',
} as const;

const only = (commands: ReportCheckRun[]): ReportCheckRun => {
  expect(commands).toHaveLength(1);
  return commands[0]!;
};

describe('check run workflow', () => {
  it('opens an in-progress check run when a push is accepted', () =>
    given()
      .when(push)
      .then({
        ...base,
        status: 'in_progress',
        completedAt: null,
        conclusion: null,
        title: 'Building',
        summary: `Push of aaaaaaa to master by alexellis: reading the stack file.`,
        annotations: [],
        link: null,
      }));

  it('gives a push that did not come through an App installation no check run (the Checks API is for Apps only)', () =>
    given()
      .when(recorded({ type: 'PushReceived', data: pushData(sha, { receivedAt: '2026-12-01T07:59:00Z', installationId: null }) }))
      .thenNothing());

  it('stays quiet while functions are still building', () =>
    given(push, fetched(['fn1', 'fn2']), built('fn1'))
      .when(deployed('fn1'))
      .thenNothing());

  it('completes with success and a summary of every function once the last one is deployed', () => {
    const run = only(
      given(push, fetched(['fn1', 'fn2']), built('fn1'), deployed('fn1'), built('fn2'))
        .when(deployed('fn2'))
        .commands(),
    );
    expect(run).toMatchObject({
      ...base,
      status: 'completed',
      conclusion: 'success',
      completedAt: '2026-12-01T08:00:00Z',
      annotations: [],
    });
    expect(run.title).toBe('2 function(s) deployed');
    expect(run.summary).toContain('| alexellis-fn1 | deployed | 1.5 s | http://gw/function/alexellis-fn1 |');
    expect(run.summary).toContain('| alexellis-fn2 | deployed | 1.5 s | http://gw/function/alexellis-fn2 |');
  });

  it('fails with an annotation naming the failing function and its reason, and the end of its build log', () => {
    const run = only(
      given(push, fetched(['fn1', 'web']), built('fn1'), deployed('fn1'))
        .when(failedBuild('web'))
        .commands(),
    );
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure', link: { kind: 'log', buildId: 'b-web' } });
    expect(run.title).toBe('1 of 2 function(s) failed: alexellis-web');
    expect(run.annotations).toEqual([
      {
        path: 'stack.yml',
        startLine: 1,
        endLine: 1,
        level: 'failure',
        title: 'alexellis-web',
        message: 'build failed: npm ERR! code E404',
      },
    ]);
    expect(run.summary).toContain('| alexellis-web | failed | 2.0 s | build failed: npm ERR! code E404 |');
    expect(run.summary).toContain(
      '### alexellis-web: last lines of the build log\n\n```text\nnpm ERR! code E404\nnpm ERR! 404 Not Found - left-pad-nope\n```',
    );
  });

  it('shows the last log lines of a function that never became ready, redacted, and not a rollback’s deploy as this push’s', () => {
    const notReady = recorded({
      type: 'DeployFailed',
      data: {
        ...ref('fn1'),
        reason: 'not ready after 2m (0 of 1 replica(s) available): Error: boom',
        logs: ['Forking - node [index.js]', 'Error: boom token=abc123'],
        rolledBackTo: { buildId: 'b-0', sha: 'c'.repeat(40), image: 'old' },
      },
    });
    const earlier = recorded({ type: 'FunctionDeployed', data: { ...deployedData('fn1', 'c'.repeat(40)), deliveryId: 'd-0' } });
    const run = only(
      given(push, fetched(['fn1', 'fn2']), built('fn1'), notReady, earlier, built('fn2'))
        .when(deployed('fn2'))
        .commands(),
    );
    expect(run).toMatchObject({ conclusion: 'failure', title: '1 of 2 function(s) failed: alexellis-fn1' });
    expect(run.summary).toContain(
      '### alexellis-fn1: last lines of its log on the gateway\n\n```text\nForking - node [index.js]\nError: boom token=[redacted]\n```',
    );
  });

  it('annotates the failing function’s own line of the stack file when the source step found it', () => {
    const withLines = recorded({
      type: 'SourceFetched',
      data: { ...(fetched(['fn1', 'web']).data as object), lines: { fn1: 4, web: 9 } } as never,
    });
    const run = only(given(push, withLines, built('fn1'), deployed('fn1')).when(failedBuild('web')).commands());
    expect(run.annotations.map((a) => [a.title, a.startLine, a.endLine])).toEqual([['alexellis-web', 9, 9]]);
  });

  it('counts functions rejected at source as failures, each annotated', () => {
    const run = only(
      given(push, fetched(['fn1'], [{ function: 'bad', name: 'alexellis-bad', reason: 'lang cobol is not available' }]), built('fn1'))
        .when(deployed('fn1'))
        .commands(),
    );
    expect(run.conclusion).toBe('failure');
    expect(run.annotations.map((a) => [a.title, a.message])).toEqual([['alexellis-bad', 'lang cobol is not available']]);
    expect(run.summary).toContain('| alexellis-bad | rejected | | lang cobol is not available |');
  });

  it('fails at once when no function can be built', () =>
    expect(
      only(
        given(push)
          .when(fetched([], [{ function: 'bad', name: 'alexellis-bad', reason: 'bad name' }]))
          .commands(),
      ),
    ).toMatchObject({ status: 'completed', conclusion: 'failure', title: '1 of 1 function(s) failed: alexellis-bad' }));

  it('fails on a rejected stack file with an annotation on it', () => {
    const run = only(
      given(push)
        .when(
          recorded({
            type: 'SourceRejected',
            data: { deliveryId: 'd-1', owner: 'alexellis', repo: 'fns', branch: 'master', sha, reason: 'stack.yml: no functions' },
          }),
        )
        .commands(),
    );
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure', title: 'The stack file was rejected' });
    expect(run.annotations).toEqual([
      { path: 'stack.yml', startLine: 1, endLine: 1, level: 'failure', title: 'stack file', message: 'stack.yml: no functions' },
    ]);
  });

  it('is cancelled, not failed, when a newer push superseded the build', () =>
    expect(
      only(
        given(push, fetched(['fn1']), built('fn1'))
          .when(recorded({ type: 'BuildSuperseded', data: { ...ref('fn1'), image: 'i', supersededBy: 'b'.repeat(40) } }))
          .commands(),
      ),
    ).toMatchObject({ conclusion: 'cancelled' }));

  it('completes once: an event after completion changes nothing', () =>
    given(push, fetched(['fn1']), built('fn1'), deployed('fn1'))
      .when(deployed('fn1'))
      .thenNothing());

  it('keeps at most 50 annotations and a summary GitHub accepts', () => {
    const names = Array.from({ length: 60 }, (_, i) => `f${i}`);
    const history = [push, fetched(names), ...names.slice(0, -1).map((fn) => failedBuild(fn, 'x'.repeat(300).concat('\n').repeat(5000)))];
    const run = only(
      given(...history)
        .when(failedBuild(names.at(-1)!))
        .commands(),
    );
    expect(run.annotations).toHaveLength(MAX_ANNOTATIONS_PER_REQUEST);
    expect(run.summary.length).toBeLessThanOrEqual(MAX_CHECK_SUMMARY);
  });
});

describe('a build log tail in a check run', () => {
  it('keeps the last lines, without server paths or credentials', () => {
    const log = [
      'step 1',
      'cloning https://x-access-token:ghs_abcdefghijklmnopqrstuvwxyz@github.com/a/b.git',
      'npm ERR! enoent /var/lib/faasline/data/images/abc/package.json',
      'using token=s3cr3t-value and GITHUB_TOKEN: ghp_0123456789abcdefghijkl',
      '\u001b[31mred\u001b[0m ```',
    ].join('\n');
    const tail = redactedTail(log, 4);
    expect(tail).not.toContain('step 1');
    expect(tail).not.toMatch(/ghs_|ghp_|s3cr3t|\/var\/lib|```/);
    expect(tail).not.toContain('\u001b');
    expect(tail).toContain('npm ERR! enoent …/package.json');
    expect(tail).toContain('red');
  });
});
