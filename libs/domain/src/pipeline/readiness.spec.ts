import { describe, expect, it } from '@jest/globals';
import { notReady, readiness, readinessDeadline, READINESS_POLL_MS, type ReplicaStatus } from './readiness.js';

const NEW = 'registry:5000/alexellis/fns-fn1:0.1-master-bbbbbbb';
const OLD = 'registry:5000/alexellis/fns-fn1:0.1-master-aaaaaaa';
const status = (image: string, availableReplicas: number, labels: Record<string, string> = {}): ReplicaStatus => ({
  image,
  availableReplicas,
  replicas: 1,
  labels,
});
const previous = { buildId: 'b-1', sha: 'a'.repeat(40), image: OLD };
const crashLoop = [
  '2026/12/02 06:00:00 Forking - node [index.js]',
  '2026/12/02 06:00:01 stderr: /home/app/function/handler.js:1',
  "2026/12/02 06:00:01 stderr: Error: Cannot find module 'left-pad'",
  '2026/12/02 06:00:01 stderr:     at Module._resolveFilename (node:internal/modules/cjs/loader:1145:15)',
];

describe('readiness of a deploy on an external gateway', () => {
  it('is ready once an available replica runs the new image', () =>
    expect(readiness({ image: NEW, observed: status(NEW, 1), deadlineMs: 10_000, nowMs: 1000 })).toEqual({ kind: 'ready' }));

  it('waits while no replica of the new image is available, polling again within a second', () =>
    expect(readiness({ image: NEW, observed: status(NEW, 0), deadlineMs: 10_000, nowMs: 1000 })).toEqual({
      kind: 'wait',
      pollInMs: READINESS_POLL_MS,
    }));

  it('does not count replicas of the previous image still rolling out', () =>
    expect(readiness({ image: NEW, observed: status(OLD, 1), deadlineMs: 10_000, nowMs: 1000 })).toEqual({
      kind: 'wait',
      pollInMs: READINESS_POLL_MS,
    }));

  it('polls last at the deadline, not past it', () =>
    expect(readiness({ image: NEW, observed: status(NEW, 0), deadlineMs: 10_000, nowMs: 9700 })).toEqual({ kind: 'wait', pollInMs: 300 }));

  it('is not ready at the deadline, nor when the gateway lost the function', () => {
    expect(readiness({ image: NEW, observed: status(NEW, 0), deadlineMs: 10_000, nowMs: 10_000 })).toEqual({ kind: 'not-ready' });
    expect(readiness({ image: NEW, observed: null, deadlineMs: 10_000, nowMs: 12_000 })).toEqual({ kind: 'not-ready' });
  });

  it('is ready when the gateway scaled the new image to zero (0 replicas wanted): it starts on its next call', () => {
    expect(readiness({ image: NEW, observed: { image: NEW, availableReplicas: 0, replicas: 0 }, deadlineMs: 10_000, nowMs: 1000 })).toEqual(
      {
        kind: 'ready',
      },
    );
    expect(readiness({ image: NEW, observed: { image: OLD, availableReplicas: 0, replicas: 0 }, deadlineMs: 10_000, nowMs: 1000 })).toEqual(
      {
        kind: 'wait',
        pollInMs: READINESS_POLL_MS,
      },
    );
  });

  it('is ready even after the deadline when the last look finds it ready', () =>
    expect(readiness({ image: NEW, observed: status(NEW, 2), deadlineMs: 10_000, nowMs: 99_000 })).toEqual({ kind: 'ready' }));
});

describe('the deadline of a deploy', () => {
  const sha = 'b'.repeat(40);
  const labels = (deployedAtS: number) => ({ 'com.openfaas.cloud.git-sha': sha, 'com.openfaas.cloud.git-deploytime': String(deployedAtS) });

  it('is the timeout after now for a deploy just made', () => expect(readinessDeadline(null, sha, 50_000, 120_000)).toBe(170_000));

  it('counts from the deploy time the gateway kept when the step runs again after a restart', () =>
    expect(readinessDeadline(status(NEW, 0, labels(100)), sha, 160_000, 120_000)).toBe(221_000));

  it('counts from now for a function deployed from another commit, or without the label', () => {
    expect(readinessDeadline(status(NEW, 0, { ...labels(100), 'com.openfaas.cloud.git-sha': 'c'.repeat(40) }), sha, 160_000, 120_000)).toBe(
      280_000,
    );
    expect(readinessDeadline(status(NEW, 0), sha, 160_000, 120_000)).toBe(280_000);
  });
});

describe('a deploy that never became ready', () => {
  it('fails with the replicas available and the error line of its log, going back to the version that ran', () =>
    expect(notReady({ timeoutMs: 120_000, observed: status(NEW, 0), logs: crashLoop, previous, redeployable: true, image: NEW })).toEqual({
      reason: "not ready after 2m (0 of 1 replica(s) available); back to aaaaaaa: Error: Cannot find module 'left-pad'",
      logs: crashLoop.map((line) => line.replace('/home/app/function/', '…/')),
      rollbackTo: previous,
      remove: false,
    }));

  it('says when the function printed nothing, and removes a first deploy, having nothing to go back to', () =>
    expect(notReady({ timeoutMs: 5000, observed: status(NEW, 0), logs: [], previous: null, redeployable: false, image: NEW })).toEqual({
      reason: 'not ready after 5s (0 of 1 replica(s) available); removed, printing nothing',
      logs: [],
      rollbackTo: null,
      remove: true,
    }));

  it('neither goes back nor removes when the version before it cannot be deployed again, or is the very image that failed', () => {
    const stays = { rollbackTo: null, remove: false };
    expect(notReady({ timeoutMs: 5000, observed: status(NEW, 0), logs: [], previous, redeployable: false, image: NEW })).toMatchObject({
      reason: 'not ready after 5s (0 of 1 replica(s) available), printing nothing',
      ...stays,
    });
    expect(notReady({ timeoutMs: 5000, observed: status(OLD, 0), logs: [], previous, redeployable: true, image: OLD })).toMatchObject(
      stays,
    );
  });

  it('keeps the last log lines only, bounded and without server paths', () => {
    const logs = Array.from({ length: 100 }, (_, i) => `line ${i} in /var/lib/faasline/data/x.js ${'y'.repeat(1000)}`);
    const outcome = notReady({ timeoutMs: 5000, observed: null, logs, previous, redeployable: true, image: NEW });
    expect(outcome.logs).toHaveLength(30);
    expect(outcome.logs[0]).toMatch(/^line 70 in …\/x\.js y+$/);
    expect(outcome.logs.every((line) => line.length <= 500)).toBe(true);
    expect(outcome.reason).toMatch(/^not ready after 5s \(the gateway lost the function\); back to aaaaaaa: line 70 /);
  });
});
